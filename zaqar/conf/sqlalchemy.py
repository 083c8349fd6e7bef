"""Options of the ``[drivers:message_store:sqlalchemy]`` group."""
from oslo_config import cfg

GROUP = "drivers:message_store:sqlalchemy"

OPTS = [
    cfg.StrOpt("uri", secret=True,
               help="SQLAlchemy database URI, e.g. postgresql+psycopg://user@host/db or "
                    "mysql+pymysql://root@host/db. Unset: an embedded SQLite database "
                    "'zaqar.sqlite3' in [DEFAULT] data_dir."),
    cfg.IntOpt("pool_size", default=5, min=1,
               help="Connections kept open per process (ignored for SQLite)."),
    cfg.IntOpt("busy_timeout", default=30, min=1,
               help="Seconds a SQLite writer waits for the database lock before failing."),
    cfg.BoolOpt("auto_migrate", default=True,
                help="Bring the schema up to date when the server starts; turn off to run "
                     "migrations as a separate deployment step."),
]
