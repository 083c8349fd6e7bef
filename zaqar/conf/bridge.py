"""Options of the ``[bridge]`` group: ``zaqar-bridge``, OpenStack notifications into queues.

The bridge reads oslo.messaging notifications from the bus and posts each one to a queue
of the notification's project (see zaqar/bridge/). Read only by ``zaqar-bridge``:
``zaqar-server`` never looks at them.
"""
from oslo_config import cfg

GROUP = "bridge"

PRIORITIES = ("audit", "debug", "info", "warn", "error", "critical", "sample")

OPTS = [
    cfg.StrOpt("transport_url", default="rabbit://guest:guest@127.0.0.1:5672/", secret=True,
               help="oslo.messaging transport URL of the bus the notifications are read "
                    "from (RabbitMQ: rabbit://user:password@host:5672/vhost)."),
    cfg.ListOpt("topics", default=["notifications"],
                help="Notification topics to read (the services' [oslo_messaging_"
                     "notifications] topics)."),
    cfg.ListOpt("priorities", default=["info", "warn", "error", "critical"],
                item_type=cfg.types.String(choices=PRIORITIES),
                help="Notification priorities to read; each is a queue on the bus "
                     "(<topic>.<priority>)."),
    cfg.StrOpt("pool", default="zaqar-bridge",
               help="Listener pool: the bus queue the bridge reads from. Bridges of one "
                    "pool share the notifications; other consumers of the topic (e.g. "
                    "Ceilometer) still get every one of theirs."),
    cfg.ListOpt("event_types", default=[],
                help="Regular expressions (matched at the start of the event type, e.g. "
                     "'compute\\.instance\\.'); only notifications whose event type "
                     "matches one are posted, the others are acknowledged and dropped. "
                     "Empty: every event type."),
    cfg.StrOpt("queue_name", default="notifications-{service}",
               help="Name of the queue a notification is posted to, in the notification's "
                    "project. {service} is the service part of its publisher id "
                    "('compute' for 'compute.host1', 'nova-compute' for "
                    "'nova-compute:host1'); characters "
                    "not allowed in queue names become '-'."),
    cfg.IntOpt("message_ttl", default=3600, min=60,
               help="TTL in seconds of the messages posted (at most [transport] "
                    "max_message_ttl)."),
    cfg.FloatOpt("retry_interval", default=1.0, min=0.0,
                 help="Seconds to wait before a notification whose post failed (storage "
                      "unavailable) is put back on the bus to be delivered again."),
]
