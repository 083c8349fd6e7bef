"""Options of the ``[drivers:management_store:sqlalchemy]`` group: where pools, flavors
and the catalog live (``[DEFAULT] pooling``)."""
from oslo_config import cfg

GROUP = "drivers:management_store:sqlalchemy"

OPTS = [
    cfg.StrOpt("uri", secret=True,
               help="SQLAlchemy database URI of the management store (pools, flavors, "
                    "the catalog of which pool holds each queue), e.g. "
                    "postgresql+psycopg://user@host/db or mysql+pymysql://root@host/db. "
                    "Every node of a deployment must use the same one. Unset: an "
                    "embedded SQLite database 'zaqar-management.sqlite3' in [DEFAULT] "
                    "data_dir (one node only)."),
    cfg.IntOpt("pool_size", default=2, min=1,
               help="Connections kept open per process (ignored for SQLite)."),
    cfg.BoolOpt("auto_migrate", default=True,
                help="Bring the management schema up to date when the server starts."),
    cfg.FloatOpt("catalog_cache_ttl", default=5.0, min=0,
                 help="Seconds a process remembers where a queue lives (and a pool's URI "
                      "and options) before reading the catalog again. A queue deleted and "
                      "created again by another node within this time may be looked for "
                      "on its former pool by this one; 0 reads the catalog every time."),
]
