"""Options of the ``[drivers]`` group: which transport and storage drivers to load."""
from oslo_config import cfg

GROUP = "drivers"

OPTS = [
    cfg.StrOpt("transport", default="wsgi", choices=["wsgi"],
               help="Transport driver to serve."),
    cfg.StrOpt("message_store", default="sqlalchemy",
               help="Storage driver for messages, queues, claims and subscriptions."),
    cfg.StrOpt("management_store", default="sqlalchemy",
               help="Storage driver for management data (pools, flavors)."),
]
