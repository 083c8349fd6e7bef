"""Options of the ``[gc]`` group: removal of expired messages, claims and subscriptions."""
from oslo_config import cfg

GROUP = "gc"

OPTS = [
    cfg.IntOpt("interval", default=60, min=0,
               help="Seconds between garbage collection runs inside zaqar-server; 0 turns "
                    "the periodic task off (run zaqar-gc from cron instead)."),
    cfg.IntOpt("batch_size", default=1000, min=1,
               help="Most expired rows removed per statement, to keep locks short."),
]
