"""Where the Redis server is (the ``uri`` option), and a client for it.

The forms follow upstream Zaqar's ``[drivers:message_store:redis] uri``, plus the
``redis+sentinel://`` and ``unix://`` schemes other Redis clients use:

- ``redis://[[user]:password@]host[:port][/db]`` (``rediss://`` for TLS);
- ``redis+sentinel://[[user]:password@]host1[:port1][,host2[:port2]...]/master[/db]``, or
  upstream's ``redis://host1[:port1][,host2...]?master=name``: the hosts are sentinels
  (port 26379 unless given), the credentials are the master's;
- ``redis:///path/to/sock``, ``redis://:password@/path/to/sock``, ``unix:///path/to/sock``;
- ``redis+cluster://[[user]:password@]host1[:port1][,host2[:port2]...]`` (``rediss+cluster://``
  for TLS): some nodes of a Redis Cluster, from which the client learns the rest; a
  cluster has database 0 only. The client is redis-py's :class:`~redis.cluster.RedisCluster`,
  which routes each command to the master of its keys' hash slot.

Any form may give ``db=N`` (or upstream's ``dbid=N``) and ``socket_timeout=seconds`` in
its query; sentinels that require authentication take ``sentinel_username`` and
``sentinel_password`` there.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import redis
from oslo_config import cfg
from redis.backoff import ExponentialBackoff
from redis.cluster import ClusterNode, RedisCluster
from redis.retry import Retry
from redis.sentinel import Sentinel

REDIS_PORT = 6379
SENTINEL_PORT = 26379
SCHEMES = ("redis", "rediss", "redis+sentinel", "rediss+sentinel", "redis+cluster",
            "rediss+cluster", "unix")
# A client of one server (or a Sentinel's master), or of a Redis Cluster.
Client = redis.Redis | RedisCluster


@dataclass(frozen=True)
class RedisLocation:
    """A parsed ``uri``: one server, a unix socket, the sentinels of a master, or some
    nodes of a cluster."""

    hosts: tuple[tuple[str, int], ...] = ()  # one server, the sentinels, cluster nodes
    cluster: bool = False
    socket_path: str | None = None
    master: str | None = None  # set: ``hosts`` are sentinels watching this master
    db: int = 0
    username: str | None = None
    password: str | None = None
    ssl: bool = False
    socket_timeout: float | None = None  # from the query; None: the option's
    sentinel_username: str | None = None
    sentinel_password: str | None = None


def parse_uri(uri: str) -> RedisLocation:
    """Parse a Redis URI. Raises ValueError naming what is wrong (never the password)."""
    parts = urlsplit(uri)
    scheme = parts.scheme.lower()
    if scheme not in SCHEMES:
        raise _invalid(uri, f"the scheme must be one of {', '.join(SCHEMES)}")
    query = dict(parse_qsl(parts.query))
    userinfo, _, hostlist = parts.netloc.rpartition("@")
    user, _, password = userinfo.partition(":")
    common: dict[str, Any] = {
        "username": unquote(user) or None, "password": unquote(password) or None,
        "ssl": scheme.startswith("rediss"),
        "socket_timeout": _number(uri, query, "socket_timeout", float),
        "sentinel_username": query.get("sentinel_username"),
        "sentinel_password": query.get("sentinel_password"),
    }
    query_db = _query_db(uri, query)
    path = unquote(parts.path)
    if scheme == "unix" or (scheme == "redis" and not hostlist and "master" not in query):
        if not path or path == "/":
            raise _invalid(uri, "a unix socket URI needs the socket's path")
        return RedisLocation(socket_path=path, db=query_db or 0, **common)
    segments = [s for s in path.split("/") if s]
    if scheme.endswith("+cluster"):
        if "master" in query:
            raise _invalid(uri, "a cluster has no Sentinel master: leave out master=")
        if _db(uri, segments, query_db) != 0:
            raise _invalid(uri, "a Redis Cluster has database 0 only")
        return RedisLocation(hosts=_hosts(uri, hostlist, REDIS_PORT), cluster=True, **common)
    if scheme.endswith("+sentinel") or "master" in query:
        master = query.get("master") or (segments.pop(0) if segments else None)
        if not master:
            raise _invalid(uri, "name the Sentinel master: redis+sentinel://hosts/master "
                                "or ?master=name")
        return RedisLocation(hosts=_hosts(uri, hostlist, SENTINEL_PORT), master=master,
                             db=_db(uri, segments, query_db), **common)
    hosts = _hosts(uri, hostlist, REDIS_PORT)
    if len(hosts) > 1:
        raise _invalid(uri, "several hosts are sentinels: add ?master=<name of the master "
                            "in the Sentinel configuration> or use redis+sentinel://")
    return RedisLocation(hosts=hosts, db=_db(uri, segments, query_db), **common)


def connect(location: RedisLocation, options: cfg.ConfigOpts.GroupAttr) -> Client:
    """A client (with its connection pool) for ``location``; nothing is connected yet
    (but for a cluster, see below).

    Commands that fail for a lost connection are sent again up to
    ``max_reconnect_attempts`` times, waiting ``reconnect_sleep`` seconds and twice as
    long each time after; a reply that does not come within the socket timeout is not
    retried (the command may have run).
    """
    sleep = options.reconnect_sleep
    retry = Retry(ExponentialBackoff(cap=sleep * 2 ** options.max_reconnect_attempts,
                                     base=sleep / 2),
                  options.max_reconnect_attempts, supported_errors=(redis.ConnectionError,))
    timeout = location.socket_timeout if location.socket_timeout is not None \
        else options.socket_timeout
    settings: dict[str, Any] = {
        "db": location.db, "username": location.username, "password": location.password,
        "socket_timeout": timeout, "socket_connect_timeout": options.socket_connect_timeout,
        "retry": retry, "client_name": "zaqar",
    }
    if location.cluster:
        # RedisCluster asks a startup node for the slot map when made: unlike the
        # other clients it fails at once (ConnectionError) when none answers.
        del settings["db"]
        nodes = [ClusterNode(host, port) for host, port in location.hosts]
        return RedisCluster(startup_nodes=nodes, ssl=location.ssl, **settings)
    if location.master is not None:
        sentinel = Sentinel(list(location.hosts), sentinel_kwargs={
            "socket_timeout": timeout, "socket_connect_timeout": options.socket_connect_timeout,
            "username": location.sentinel_username, "password": location.sentinel_password,
            "ssl": location.ssl})
        return sentinel.master_for(location.master, ssl=location.ssl, **settings)
    if location.socket_path is not None:
        return redis.Redis(unix_socket_path=location.socket_path, **settings)
    [(host, port)] = location.hosts
    return redis.Redis(host=host, port=port, ssl=location.ssl, **settings)


def _hosts(uri: str, hostlist: str, default_port: int) -> tuple[tuple[str, int], ...]:
    hosts = []
    for item in hostlist.split(","):
        if item.startswith("["):  # [IPv6]:port
            host, _, rest = item[1:].partition("]")
            port_text = rest.removeprefix(":")
        else:
            host, _, port_text = item.partition(":")
        if not host:
            raise _invalid(uri, "a host name is missing")
        if port_text and not (port_text.isascii() and port_text.isdigit()
                              and 0 < int(port_text) < 65536):
            raise _invalid(uri, f"the port of {host!r} is not a port number")
        hosts.append((host, int(port_text) if port_text else default_port))
    return tuple(hosts)


def _query_db(uri: str, query: dict[str, str]) -> int | None:
    db, dbid = _number(uri, query, "db", int), _number(uri, query, "dbid", int)
    if db is not None and dbid is not None and db != dbid:
        raise _invalid(uri, "db and dbid name different databases")
    return db if db is not None else dbid


def _db(uri: str, segments: list[str], query_db: int | None) -> int:
    if len(segments) > 1 or (segments and not (segments[0].isascii()
                                                and segments[0].isdigit())):
        raise _invalid(uri, "the path may only hold the database number")
    path_db = int(segments[0]) if segments else None
    if path_db is not None and query_db is not None and path_db != query_db:
        raise _invalid(uri, "the path and the query name different databases")
    return path_db if path_db is not None else query_db or 0


def _number(uri: str, query: dict[str, str], name: str, kind: type[int] | type[float]
            ) -> Any:
    if name not in query:
        return None
    try:
        value = kind(query[name])
    except ValueError:
        raise _invalid(uri, f"{name} must be a number") from None
    if value < 0:
        raise _invalid(uri, f"{name} may not be negative")
    return value


def _invalid(uri: str, reason: str) -> ValueError:
    parts = urlsplit(uri)
    shown = parts._replace(netloc=parts.netloc.rpartition("@")[2], query="").geturl()
    return ValueError(f"Invalid [drivers:message_store:redis] uri {shown!r}: {reason}.")
