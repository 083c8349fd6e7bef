"""Options of the ``[DEFAULT]`` group (upstream Zaqar names and defaults)."""
import os

from oslo_config import cfg


def _default_data_dir() -> str:
    home = os.path.expanduser("~")
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(home, ".local", "share")
    return os.path.join(base, "zaqar")


GROUP = None

OPTS = [
    cfg.StrOpt("auth_strategy", default="",
               choices=[("", "no authentication; the project comes from the X-Project-ID "
                             "header"),
                        ("keystone", "Keystone tokens")],
               help="Backend used to authenticate requests."),
    cfg.BoolOpt("admin_mode", default=False,
                help="Serve the admin API as well: /v2/health (websocket health and "
                     "check_node_health), and with pooling /v2/pools and /v2/flavors. "
                     "Off, those answer 404 (websocket: 400, unknown action)."),
    cfg.BoolOpt("pooling", default=False,
                help="Spread queues over several storage pools: pools (each a data store "
                     "named by its URI) and flavors are registered in the management "
                     "store ([drivers] management_store), which records the pool of each "
                     "queue; [drivers] message_store is then not used. With admin_mode, "
                     "/v2/pools and /v2/flavors manage them."),
    cfg.BoolOpt("enable_checksum", default=False,
                help="Compute an MD5 checksum of each message body on post and return it "
                     "with the message."),
    cfg.StrOpt("data_dir", default=_default_data_dir(), sample_default="~/.local/share/zaqar",
               help="Directory for the embedded SQLite database used when no storage URI "
                    "is configured."),
]
