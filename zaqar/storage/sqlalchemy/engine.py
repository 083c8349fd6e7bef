"""Engines per dialect: what each engine needs to be safe under concurrent processes."""
import os

import sqlalchemy as sa
from oslo_config import cfg
from sqlalchemy import event


def database_uri(conf: cfg.ConfigOpts) -> str:
    """The configured URI, or the embedded SQLite file under ``[DEFAULT] data_dir``."""
    uri = conf["drivers:message_store:sqlalchemy"].uri
    if uri:
        return uri
    data_dir = os.path.expanduser(conf.data_dir)
    os.makedirs(data_dir, exist_ok=True)
    return "sqlite:///" + os.path.join(data_dir, "zaqar.sqlite3")


def create_engines(conf: cfg.ConfigOpts) -> tuple[sa.Engine, sa.Engine]:
    """Return (reader, writer) engines.

    SQLite serializes writers: the writer engine opens every transaction with
    ``BEGIN IMMEDIATE`` so a read-then-write (a claim) holds the write lock from its first
    statement, and readers (WAL mode) never wait for it. Server databases use one engine:
    row locks (``FOR UPDATE SKIP LOCKED``) do that work there.
    """
    group = conf["drivers:message_store:sqlalchemy"]
    url = sa.make_url(database_uri(conf))
    if url.get_backend_name() == "sqlite":
        return (_sqlite_engine(url, group.busy_timeout, "BEGIN"),
                _sqlite_engine(url, group.busy_timeout, "BEGIN IMMEDIATE"))
    options: dict = {"pool_size": group.pool_size, "pool_pre_ping": True,
                     "pool_recycle": 3600}
    if url.get_backend_name() in ("mysql", "mariadb"):
        # READ COMMITTED avoids InnoDB gap locks between concurrent claimers.
        options["isolation_level"] = "READ COMMITTED"
        if "charset" not in url.query:
            url = url.update_query_dict({"charset": "utf8mb4"})
    engine = sa.create_engine(url, **options)
    return engine, engine


def _sqlite_engine(url: sa.URL, busy_timeout: int, begin: str) -> sa.Engine:
    engine = sa.create_engine(url, connect_args={"timeout": busy_timeout,
                                                 "check_same_thread": False})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
        # Let SQLAlchemy's "begin" event, not pysqlite, decide how transactions start.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA busy_timeout={busy_timeout * 1000}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection) -> None:  # type: ignore[no-untyped-def]
        connection.exec_driver_sql(begin)

    return engine
