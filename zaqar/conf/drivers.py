"""Options of the ``[drivers]`` group: which transport and storage drivers to load."""
from oslo_config import cfg

GROUP = "drivers"

OPTS = [
    cfg.ListOpt("transport", default=["wsgi", "websocket"],
                item_type=cfg.types.String(choices=["wsgi", "websocket"]),
                help="Transports zaqar-server serves: 'wsgi' (the REST API), 'websocket', "
                     "or both."),
    cfg.StrOpt("message_store", default="sqlalchemy",
               help="Storage driver for messages, queues, claims and subscriptions: "
                    "'sqlalchemy' (SQLite, PostgreSQL, MariaDB) or 'redis'."),
    cfg.StrOpt("management_store", default="sqlalchemy",
               help="Storage driver of the management store (pools, flavors and the "
                    "catalog of which pool holds each queue), used with [DEFAULT] pooling: "
                    "'sqlalchemy' (options in [drivers:management_store:sqlalchemy])."),
]
