"""Options of the ``[drivers:transport:wsgi]`` group: the REST server."""
import os

from oslo_config import cfg

GROUP = "drivers:transport:wsgi"

OPTS = [
    cfg.HostAddressOpt("bind", default="127.0.0.1", help="Address the REST API listens on."),
    cfg.PortOpt("port", default=8888, help="Port the REST API listens on."),
    cfg.IntOpt("workers", default=2 * (os.cpu_count() or 1), sample_default="2 x CPU cores",
               min=1, help="gunicorn worker processes."),
    cfg.IntOpt("threads", default=1, min=1,
               help="Threads per worker. 1 selects Zaqar's keep-alive worker (one thread "
                    "serving many persistent connections); more selects gunicorn's "
                    "gthread worker."),
    cfg.IntOpt("timeout", default=30, min=1,
               help="Seconds a worker may spend on one request before it is restarted; "
                    "also how long a client may take to send a request, and to take "
                    "its answers (one that leaves them unread longer is dropped)."),
    cfg.IntOpt("keepalive", default=5, min=1,
               help="Seconds an idle persistent (keep-alive) connection stays open; "
                    "also how long a TLS handshake may take."),
    cfg.IntOpt("worker_connections", default=1000, min=1,
               help="Connections one worker holds open at most; past that it accepts no "
                    "more until some close (each may buffer a request body)."),
    cfg.BoolOpt("access_log", default=True, help="Log one line per request."),
    cfg.StrOpt("cert_file", help="PEM certificate (then intermediates) to serve https over TLS; "
               "with key_file. TLS 1.2 or later."),
    cfg.StrOpt("key_file", help="PEM private key of cert_file."),
    cfg.StrOpt("ca_file", help="PEM CA certificates: set, clients must present a "
               "certificate one of them signed (mutual TLS)."),
    cfg.FloatOpt("long_poll_interval", default=0.05, min=0.01,
                 help="Seconds between looks for new messages on the queues that long "
                      "polls (wait=N) wait on, with a storage that does not announce "
                      "posts (SQL); posts served by the same process wake at once."),
    cfg.FloatOpt("long_poll_recheck", default=1.0, min=0.05,
                 help="Seconds between runs of every waiting long poll again: the latest "
                      "a message freed by a released or expired claim, or whose "
                      "announcement was lost, is found."),
    cfg.ListOpt("metrics_allowed_networks", default=["127.0.0.0/8", "::1"],
                help="Addresses or networks (CIDR) that may read the Prometheus metrics "
                     "at /metrics, served without authentication; others get 403. Empty: "
                     "/metrics is not served (404). Labels never name a project, queue "
                     "or client."),
]
