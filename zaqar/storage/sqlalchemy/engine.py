"""Engines per dialect: what each engine needs to be safe under concurrent processes."""
import contextlib
import fcntl
import functools
import os
import random
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, ParamSpec, TypeVar

import sqlalchemy as sa
from oslo_config import cfg
from sqlalchemy import event

_Params = ParamSpec("_Params")
_Result = TypeVar("_Result")

DEADLOCK_ATTEMPTS = 5
# PostgreSQL: deadlock_detected, serialization_failure.
_DEADLOCK_SQLSTATES = frozenset({"40P01", "40001"})
# MySQL/MariaDB: ER_LOCK_DEADLOCK ("Deadlock found when trying to get lock; try
# restarting transaction").
_MYSQL_DEADLOCK = 1213


def database_uri(conf: cfg.ConfigOpts) -> str:
    """The configured URI, or the embedded SQLite file under ``[DEFAULT] data_dir``."""
    uri = conf["drivers:message_store:sqlalchemy"].uri
    if uri:
        return uri
    data_dir = os.path.expanduser(conf.data_dir)
    os.makedirs(data_dir, exist_ok=True)
    return "sqlite:///" + os.path.join(data_dir, "zaqar.sqlite3")


class SqliteWriteGate:
    """Queues the writers of one SQLite database, across threads and processes.

    SQLite lets one writer in at a time and makes the others poll with growing sleeps
    (1, 2, 5, 10... ms) in its busy handler, which under load costs more than the writes.
    Waiting here instead (a thread lock, then ``flock`` on a file beside the database)
    blocks and wakes at once, in order, and SQLite then never sees contention.
    """

    def __init__(self, database: str | None) -> None:
        self._threads = threading.Lock()
        self._file = open(f"{database}-writelock", "a+b") if database else None  # noqa: SIM115

    def __enter__(self) -> None:
        self._threads.acquire()
        if self._file is not None:
            try:
                fcntl.flock(self._file.fileno(), fcntl.LOCK_EX)
            except BaseException:
                self._threads.release()
                raise

    def __exit__(self, *exc_info: object) -> None:
        if self._file is not None:
            fcntl.flock(self._file.fileno(), fcntl.LOCK_UN)
        self._threads.release()

    def close(self) -> None:
        if self._file is not None:
            self._file.close()


@dataclass(frozen=True)
class Engines:
    reader: sa.Engine
    writer: sa.Engine
    # Entered around every write transaction; a no-op where the database queues writers.
    write_gate: contextlib.AbstractContextManager[None]


def create_engines(conf: cfg.ConfigOpts) -> Engines:
    """Return the reader and writer engines and the write gate.

    SQLite serializes writers: the writer engine opens every transaction with
    ``BEGIN IMMEDIATE`` so a read-then-write (a claim) holds the write lock from its first
    statement; the reader runs each statement on its own (WAL mode: it never waits for
    the writer, and pays for no BEGIN/COMMIT round); writers queue at a
    :class:`SqliteWriteGate`. Server databases use one engine: row locks
    (``FOR UPDATE SKIP LOCKED``) do that work there.
    """
    group = conf["drivers:message_store:sqlalchemy"]
    url = sa.make_url(database_uri(conf))
    if url.get_backend_name() == "sqlite":
        database = url.database if url.database not in (None, "", ":memory:") else None
        return Engines(sqlite_engine(url, group.busy_timeout, None),
                       sqlite_engine(url, group.busy_timeout, "BEGIN IMMEDIATE"),
                       SqliteWriteGate(database))
    engine = server_engine(url, group.pool_size)
    return Engines(engine, engine, contextlib.nullcontext())


def server_engine(url: sa.URL, pool_size: int) -> sa.Engine:
    """The engine of a server database (PostgreSQL, MySQL, MariaDB)."""
    options: dict = {"pool_size": pool_size, "pool_pre_ping": True, "pool_recycle": 3600}
    if url.get_backend_name() in ("mysql", "mariadb"):
        # READ COMMITTED avoids InnoDB gap locks between concurrent claimers.
        options["isolation_level"] = "READ COMMITTED"
        if "charset" not in url.query:
            url = url.update_query_dict({"charset": "utf8mb4"})
    return sa.create_engine(url, **options)


def sqlite_engine(url: sa.URL, busy_timeout: int, begin: str | None,
                  foreign_keys: bool = False) -> sa.Engine:
    """``begin`` None: every statement is its own transaction (reads need no more).
    ``foreign_keys``: SQLite enforces them only when each connection asks."""
    engine = sa.create_engine(url, connect_args={"timeout": busy_timeout,
                                                 "check_same_thread": False})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event, not pysqlite, decide how transactions start.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA busy_timeout={busy_timeout * 1000}")
        if foreign_keys:
            cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    if begin is not None:
        @event.listens_for(engine, "begin")
        def _on_begin(connection: sa.Connection) -> None:
            connection.exec_driver_sql(begin)

    return engine


def is_deadlock(error: sa.exc.DBAPIError) -> bool:
    """True when the engine rolled the transaction back to break a lock cycle."""
    orig = error.orig
    if getattr(orig, "sqlstate", None) in _DEADLOCK_SQLSTATES:
        return True
    args: tuple[Any, ...] = getattr(orig, "args", ())
    return bool(args) and args[0] == _MYSQL_DEADLOCK


def retry_on_deadlock(method: Callable[_Params, _Result]) -> Callable[_Params, _Result]:
    """Run a write method again when the engine picked its transaction as a deadlock victim.

    InnoDB breaks lock cycles between concurrent writers (two pops, a delete and a claim)
    by rolling one transaction back and expects it to be re-issued; PostgreSQL does the
    same, more rarely. Only for methods whose whole effect is one transaction: the
    rolled-back attempt left nothing behind, so running again is safe. Gives up after
    ``DEADLOCK_ATTEMPTS`` attempts, re-raising the engine's error.
    """
    @functools.wraps(method)
    def run(*args: _Params.args, **kwargs: _Params.kwargs) -> _Result:
        for attempt in range(1, DEADLOCK_ATTEMPTS):
            try:
                return method(*args, **kwargs)
            except sa.exc.DBAPIError as error:
                if not is_deadlock(error):
                    raise
            # Jitter, so the same transactions do not collide again in lockstep.
            time.sleep(random.uniform(0, 0.005 * 2 ** attempt))
        return method(*args, **kwargs)

    return run


# migrating: PostgreSQL advisory lock key, and how long MariaDB waits for its lock.
MIGRATION_LOCK_KEY = 0x7A6171617250
MIGRATION_LOCK_TIMEOUT = 600
# Alembic keeps its migration context in module globals: one migration at a time in a
# process.
_MIGRATING = threading.Lock()


@contextlib.contextmanager
def migrating(engine: sa.Engine) -> Iterator[None]:
    """Held while this process migrates a database: one thread of the process at a time,
    and one process at a time on a server database (PostgreSQL advisory lock, MariaDB
    named lock), so nodes that start at once on a new database take turns. SQLite's
    writers already take turns at its write lock."""
    with _MIGRATING:
        if engine.dialect.name == "sqlite":
            yield
            return
        with engine.connect() as conn:
            if engine.dialect.name == "postgresql":
                conn.execute(sa.text("SELECT pg_advisory_lock(:key)"),
                             {"key": MIGRATION_LOCK_KEY})
                unlock = sa.text("SELECT pg_advisory_unlock(:key)")
                params: dict[str, object] = {"key": MIGRATION_LOCK_KEY}
            else:  # MySQL, MariaDB: locks are the server's; the name tells databases apart
                name = f"zaqar-migrate-{engine.url.database}"
                conn.execute(sa.text("SELECT GET_LOCK(:name, :timeout)"),
                             {"name": name, "timeout": MIGRATION_LOCK_TIMEOUT})
                unlock = sa.text("SELECT RELEASE_LOCK(:name)")
                params = {"name": name}
            try:
                yield
            finally:
                conn.execute(unlock, params)
