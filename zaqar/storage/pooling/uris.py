"""Data drivers from pool URIs: the URI's scheme picks the driver, the pool's options
override that driver's options.

A pool's driver runs on a copy of the service's configuration in which
``[drivers] message_store`` names the driver, its group's ``uri`` is the pool's, and the
options the pool gives replace that group's others (``{"key_prefix": "eu"}`` for a Redis
pool, ``{"pool_size": 20}`` for a SQL one). Everything else (``data_dir``, ``[gc]``) is
the service's.
"""
from __future__ import annotations

import contextlib
import logging
import threading
import urllib.parse
from collections.abc import Iterator
from typing import Any

from oslo_config import cfg

from zaqar import conf as zaqar_conf
from zaqar.storage.base import DataDriver
from zaqar.storage.redis import connection as redis_connection

SQL_SCHEMES = frozenset({"sqlite", "postgresql", "postgres", "mysql", "mariadb"})
REDIS_SCHEMES = frozenset(redis_connection.SCHEMES)
MONGODB_SCHEMES = frozenset({"mongodb", "mongodb+srv"})
LOG = logging.getLogger(__name__)
# Seconds check_pool_uri waits for a store to answer.
CHECK_TIMEOUT = 10.0


class InvalidPool(ValueError):
    """A pool URI or options no driver takes; the message says which and why."""


def driver_name(uri: str) -> str:
    """The message store driver of a pool URI: ``sqlalchemy``, ``redis`` or ``mongodb``.

    Raises InvalidPool for a scheme none of them takes.
    """
    scheme = urllib.parse.urlsplit(uri).scheme.lower()
    if scheme in REDIS_SCHEMES:
        return "redis"
    if scheme in MONGODB_SCHEMES:
        return "mongodb"
    if scheme.split("+", 1)[0] in SQL_SCHEMES:
        return "sqlalchemy"
    known = ", ".join(["sqlite", "postgresql[+driver]", "mysql[+driver]", "mariadb[+driver]",
                       *redis_connection.SCHEMES, *sorted(MONGODB_SCHEMES)])
    raise InvalidPool(f"The pool URI's scheme {scheme or '(none)'!r} names no storage "
                      f"driver; known schemes: {known}.")


def driver_group(name: str) -> str:
    return f"drivers:message_store:{name}"


def pool_conf(conf: cfg.ConfigOpts, uri: str, options: dict[str, Any]) -> cfg.ConfigOpts:
    """A copy of ``conf`` for a pool's driver (see the module's docstring).

    Raises InvalidPool for an unknown scheme, an option the driver does not have, or a
    value it refuses.
    """
    name = driver_name(uri)
    group = driver_group(name)
    clone = cfg.ConfigOpts()
    zaqar_conf.register_opts(clone)
    clone([], project="zaqar", default_config_files=[], default_config_dirs=[])
    for group_name, opts in zaqar_conf.list_opts():
        source = conf if group_name is None else conf[group_name]
        for opt in opts:
            clone.set_override(opt.dest, source[opt.dest], group=group_name)
    clone.set_override("pooling", False)
    clone.set_override("message_store", name, group="drivers")
    clone.set_override("uri", uri, group=group)
    known = {opt.dest for opt in _group_opts(group)} - {"uri"}
    for option, value in options.items():
        if option not in known:
            raise InvalidPool(f"Pool option {option!r} is not an option of the {name} "
                              f"driver; known: {', '.join(sorted(known))}.")
        try:
            clone.set_override(option, value, group=group)
            clone[group][option]  # noqa: B018 (converting the value is the check)
        except (ValueError, cfg.Error) as error:
            raise InvalidPool(f"Pool option {option!r}: {value!r} is not a valid value "
                              f"({error}).") from error
    return clone


def _group_opts(group: str) -> list[cfg.Opt]:
    for group_name, opts in zaqar_conf.list_opts():
        if group_name == group:
            return opts
    return []


def driver_for_pool(conf: cfg.ConfigOpts, uri: str, options: dict[str, Any]) -> DataDriver:
    """An unprepared data driver of the pool's store. Raises InvalidPool."""
    from zaqar.storage import driver_class

    pool = pool_conf(conf, uri, options)
    return driver_class(pool)(pool)


def probe_conf(conf: cfg.ConfigOpts, uri: str, options: dict[str, Any]) -> cfg.ConfigOpts:
    """A pool's configuration (:func:`pool_conf`) for one look at its store: a Redis
    pool makes no reconnection rounds unless its options ask for some. Raises
    InvalidPool."""
    pool = pool_conf(conf, uri, options)
    name = pool.drivers.message_store
    if name == "redis" and "max_reconnect_attempts" not in options:
        pool.set_override("max_reconnect_attempts", 0, group=driver_group(name))
    return pool


def store_answers(pool: cfg.ConfigOpts) -> bool:
    """Whether the store of a pool's configuration (:func:`probe_conf`) answers now, on
    a driver of its own, closed after. Blocks as long as the driver's client waits for
    an absent store (MongoDB's server selection, a SQL connect timeout): call it from a
    thread of its own when the caller must not wait that long."""
    from zaqar.storage import driver_class

    try:
        driver = driver_class(pool)(pool)
    except Exception as error:  # any driver's error of a URI it cannot use
        LOG.warning("A %s store could not be opened: %s", pool.drivers.message_store, error)
        return False
    try:
        return driver.is_alive()
    finally:
        driver.close()


def check_pool_uri(conf: cfg.ConfigOpts, uri: str, options: dict[str, Any]) -> str | None:
    """Why a pool of this URI and these options cannot be used (an unknown scheme, a bad
    option, a store that does not answer within ``CHECK_TIMEOUT`` seconds), or None
    when it can: what registering or changing a pool checks first. A store that does
    not answer is logged in one line (the driver's own report of it is kept out of the
    log: refusing such a URI is no failure of the service)."""
    try:
        pool = probe_conf(conf, uri, options)
    except InvalidPool as error:
        return str(error)
    outcome: list[bool] = []

    def probe() -> None:
        with _unlogged_thread():
            outcome.append(store_answers(pool))

    # A thread: some clients (MongoDB's server selection) wait long for an absent store.
    checker = threading.Thread(target=probe, name="zaqar-pool-check", daemon=True)
    checker.start()
    checker.join(CHECK_TIMEOUT)
    if outcome == [True]:
        return None
    LOG.info("A %s pool was refused: its store did not answer", pool.drivers.message_store)
    return f"cannot connect to {uri}"


class _OtherThreads(logging.Filter):
    def __init__(self, thread: int) -> None:
        super().__init__()
        self._thread = thread

    def filter(self, record: logging.LogRecord) -> bool:
        return record.thread != self._thread


@contextlib.contextmanager
def _unlogged_thread() -> Iterator[None]:
    """Nothing the calling thread logs reaches the root logger's handlers meanwhile."""
    handlers = list(logging.getLogger().handlers)
    quiet = _OtherThreads(threading.get_ident())
    for handler in handlers:
        handler.addFilter(quiet)
    try:
        yield
    finally:
        for handler in handlers:
            handler.removeFilter(quiet)
