"""Options of the ``[dashboard]`` group: the live dashboard page zaqar-server serves."""
from oslo_config import cfg

GROUP = "dashboard"

OPTS = [
    cfg.BoolOpt("enabled", default=True,
                help="Serve the live dashboard at /dashboard on the REST port (static "
                     "pages; everything they show comes over the websocket API, with the "
                     "same authentication as any client)."),
    cfg.URIOpt("websocket_url", schemes=["ws", "wss"],
               help="Websocket API URL the dashboard page connects to. Unset: ws:// on "
                    "the host the page was loaded from, at [drivers:transport:websocket] "
                    "port (set it when a proxy or TLS terminator stands in front)."),
]
