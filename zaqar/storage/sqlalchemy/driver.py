"""The SQL data driver: engines, schema migrations, garbage collection."""
import contextlib
import logging
from collections.abc import Iterator
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config as AlembicConfig
from oslo_config import cfg

from zaqar.storage import base
from zaqar.storage.sqlalchemy import statements
from zaqar.storage.sqlalchemy import tables as t
from zaqar.storage.sqlalchemy.claims import ClaimController
from zaqar.storage.sqlalchemy.engine import SqliteWriteGate, create_engines, migrating
from zaqar.storage.sqlalchemy.messages import MessageController
from zaqar.storage.sqlalchemy.queues import QueueController
from zaqar.storage.sqlalchemy.subscriptions import SubscriptionController

LOG = logging.getLogger(__name__)
MIGRATIONS = Path(__file__).parent / "migrations"


class SqlDriver(base.DataDriver):
    transient_errors = (sa.exc.OperationalError, sa.exc.InterfaceError, sa.exc.TimeoutError)

    def __init__(self, conf: cfg.ConfigOpts) -> None:
        self.conf = conf
        engines = create_engines(conf)
        self.reader, self.writer, self._write_gate = (engines.reader, engines.writer,
                                                      engines.write_gate)
        self.queues = QueueController(self)
        self.messages = MessageController(self)
        self.claims = ClaimController(self)
        self.subscriptions = SubscriptionController(self)

    @contextlib.contextmanager
    def write(self) -> Iterator[sa.Connection]:
        """One write transaction: committed on success, rolled back on error."""
        with self._write_gate, self.writer.begin() as conn:
            yield conn

    def prepare(self) -> None:
        """Run the alembic migrations up to head, unless ``auto_migrate`` is off."""
        if not self.conf["drivers:message_store:sqlalchemy"].auto_migrate:
            return
        alembic_conf = AlembicConfig()
        alembic_conf.set_main_option("script_location", str(MIGRATIONS))
        with migrating(self.writer), self.write() as conn:
            alembic_conf.attributes["connection"] = conn
            command.upgrade(alembic_conf, "head")

    def is_alive(self) -> bool:
        try:
            with self.reader.connect() as conn:
                conn.execute(sa.text("SELECT 1"))
        except sa.exc.SQLAlchemyError as error:
            # No traceback: a store that is down is answered, not a bug, and probes
            # (health, ping, a pool URI checked) ask again and again.
            LOG.warning("Storage health check failed: %s", error)
            return False
        return True

    def purge_messages(self, queue: str, project: str) -> None:
        with self.write() as conn:
            queue_id = conn.scalar(statements.QUEUE_ID_LOCKED,
                                   {"in_project": project, "in_queue": queue})
            if queue_id is None:
                return
            conn.execute(statements.DELETE_QUEUE_MESSAGES, {"queue_key": queue_id})
            conn.execute(statements.DELETE_QUEUE_CLAIMS, {"queue_key": queue_id})

    def collect_garbage(self) -> int:
        """Delete expired rows in batches of ``[gc] batch_size``, one short transaction each."""
        batch = self.conf.gc.batch_size
        removed = 0
        for table in (t.messages, t.claims, t.subscriptions):
            while True:
                with self.write() as conn:
                    # Select then delete by key: MySQL refuses LIMIT inside IN (subquery).
                    expired = conn.scalars(sa.select(table.c.id)
                                           .where(table.c.expires <= self.clock())
                                           .limit(batch)).all()
                    if expired:
                        conn.execute(table.delete().where(table.c.id.in_(expired)))
                removed += len(expired)
                if len(expired) < batch:
                    break
        return removed

    def close(self) -> None:
        self.reader.dispose()
        self.writer.dispose()
        if isinstance(self._write_gate, SqliteWriteGate):
            self._write_gate.close()
