"""Redis URIs: one server, Sentinel (both spellings), unix sockets, Redis Cluster; errors
that help."""
import pytest
from redis.sentinel import SentinelConnectionPool

from tests.conftest import make_conf
from zaqar.storage.redis.connection import RedisLocation, connect, parse_uri


@pytest.mark.parametrize(("uri", "expected"), [
    ("redis://127.0.0.1:6379/0", RedisLocation(hosts=(("127.0.0.1", 6379),))),
    ("redis://example.com", RedisLocation(hosts=(("example.com", 6379),))),
    ("redis://:s%40cret@example.com/3",
     RedisLocation(hosts=(("example.com", 6379),), db=3, password="s@cret")),
    ("rediss://zaqar:pw@example.com:6380?db=2",
     RedisLocation(hosts=(("example.com", 6380),), db=2, username="zaqar", password="pw",
                   ssl=True)),
    ("redis://example.com?dbid=4&socket_timeout=0.5",
     RedisLocation(hosts=(("example.com", 6379),), db=4, socket_timeout=0.5)),
    ("redis://[::1]:6380/1", RedisLocation(hosts=(("::1", 6380),), db=1)),
])
def test_a_single_server(uri, expected):
    assert parse_uri(uri) == expected


@pytest.mark.parametrize("uri", [
    "redis+sentinel://s1,s2:26380/mymaster/2",
    "redis+sentinel://s1,s2:26380/2?master=mymaster",
    "redis://s1:26379,s2:26380?master=mymaster&dbid=2",  # upstream Zaqar's form
])
def test_sentinels_with_their_master_and_database(uri):
    location = parse_uri(uri)
    assert location.hosts == (("s1", 26379), ("s2", 26380))
    assert (location.master, location.db) == ("mymaster", 2)


def test_sentinel_credentials():
    location = parse_uri("redis+sentinel://:master-pw@s1/mymaster"
                         "?sentinel_username=watcher&sentinel_password=sentinel-pw")
    assert (location.password, location.sentinel_username, location.sentinel_password) == \
        ("master-pw", "watcher", "sentinel-pw")
    assert location.db == 0


@pytest.mark.parametrize("uri", [
    "redis:///var/run/redis.sock?db=5",
    "unix:///var/run/redis.sock?db=5",
    "redis://:pw@/var/run/redis.sock?dbid=5",  # upstream Zaqar's form
])
def test_a_unix_socket(uri):
    location = parse_uri(uri)
    assert (location.socket_path, location.db, location.hosts) == \
        ("/var/run/redis.sock", 5, ())


@pytest.mark.parametrize(("uri", "expected"), [
    ("redis+cluster://n1:7000,n2:7001,[::1]",
     RedisLocation(hosts=(("n1", 7000), ("n2", 7001), ("::1", 6379)), cluster=True)),
    ("rediss+cluster://zaqar:pw@n1:7000/0?socket_timeout=2",
     RedisLocation(hosts=(("n1", 7000),), cluster=True, username="zaqar", password="pw",
                   ssl=True, socket_timeout=2.0)),
])
def test_cluster_nodes(uri, expected):
    assert parse_uri(uri) == expected


@pytest.mark.parametrize(("uri", "complaint"), [
    ("redis+cluster://n1:7000/1", "database 0 only"),
    ("redis+cluster://n1:7000?db=2", "database 0 only"),
    ("redis+cluster://n1:7000?master=m", "no Sentinel master"),
    ("redis+cluster://n1:7000,:7001", "host name is missing"),
    ("http://example.com", "scheme"),
    ("redis://s1,s2", "master"),
    ("redis+sentinel://s1,s2", "master"),
    ("redis://example.com:http", "port"),
    ("redis://example.com:70000", "port"),
    ("redis://example.com/zero", "database number"),
    ("redis://example.com/1?db=2", "different databases"),
    ("redis://example.com?db=1&dbid=2", "different databases"),
    ("redis://example.com?db=-1", "negative"),
    ("redis://example.com?socket_timeout=soon", "number"),
    ("unix://", "path"),
])
def test_malformed_uris_are_refused_with_the_reason(uri, complaint):
    with pytest.raises(ValueError, match=complaint):
        parse_uri(uri)


def test_errors_never_show_the_password():
    with pytest.raises(ValueError) as raised:
        parse_uri("redis://:topsecret@example.com:http")
    assert "topsecret" not in str(raised.value)
    assert "example.com" in str(raised.value)


def test_connect_builds_a_client_without_connecting(tmp_path):
    options = make_conf(tmp_path)["drivers:message_store:redis"]
    sentinel = connect(parse_uri("redis+sentinel://192.0.2.1/mymaster/3"), options)
    assert isinstance(sentinel.connection_pool, SentinelConnectionPool)
    assert sentinel.connection_pool.connection_kwargs["db"] == 3
    unix = connect(parse_uri("unix:///tmp/redis.sock"), options)
    assert unix.connection_pool.connection_kwargs["path"] == "/tmp/redis.sock"
    server = connect(parse_uri("redis://192.0.2.1:6390/1?socket_timeout=0.25"), options)
    kwargs = server.connection_pool.connection_kwargs
    assert (kwargs["host"], kwargs["port"], kwargs["db"], kwargs["socket_timeout"]) == \
        ("192.0.2.1", 6390, 1, 0.25)
