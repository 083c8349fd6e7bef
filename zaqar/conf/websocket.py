"""Options of the ``[drivers:transport:websocket]`` group: the websocket server."""
import os

from oslo_config import cfg

GROUP = "drivers:transport:websocket"

OPTS = [
    cfg.HostAddressOpt("bind", default="127.0.0.1", help="Address the websocket server "
                       "listens on."),
    cfg.PortOpt("port", default=9000, help="Port the websocket server listens on."),
    cfg.IntOpt("workers", default=2 * (os.cpu_count() or 1), sample_default="2 x CPU cores",
               min=1, help="Websocket server processes; more than one share the port "
                           "(SO_REUSEPORT) and the kernel spreads connections over them "
                           "by a hash, so with few connections two often land in one "
                           "process: twice the cores halves how often."),
    cfg.StrOpt("cert_file", help="PEM certificate (then intermediates) to serve wss over TLS; "
               "with key_file. TLS 1.2 or later."),
    cfg.StrOpt("key_file", help="PEM private key of cert_file."),
    cfg.StrOpt("ca_file", help="PEM CA certificates: set, clients must present a "
               "certificate one of them signed (mutual TLS)."),
    cfg.IntOpt("max_frame_size", default=1024 * 1024, min=1024,
               help="Largest accepted frame (message) in bytes. Frames up to this size "
                    "that break a document limit get an error reply; larger ones close "
                    "the connection (close code 1009)."),
    cfg.IntOpt("max_in_flight", default=64, min=1,
               help="Requests one connection may have in progress at once; past that the "
                    "server stops reading from it until replies go out (backpressure)."),
    cfg.IntOpt("thread_pool_size", default=2, min=1,
               help="Threads running storage calls, so the reactor never blocks on them. "
                    "Few suffice: requests are short, and more threads only contend for "
                    "the interpreter lock (with 2, claims ran 15-30% faster than with 4 "
                    "on Redis and SQLite; see docs/benchmarks.md)."),
    cfg.IntOpt("ping_interval", default=30, min=0,
               help="Seconds between keep-alive pings to each client; 0 turns pings off."),
    cfg.IntOpt("ping_timeout", default=10, min=1,
               help="Seconds to wait for a pong before dropping the connection."),
    cfg.IntOpt("close_timeout", default=5, min=1,
               help="Seconds a connection the server closes (shutdown, a ping timeout, a "
                    "client too slow to read) waits for the client's close frame before "
                    "TCP is dropped; the client must first read what was sent before the "
                    "close frame."),
    cfg.IntOpt("idle_timeout", default=600, min=0,
               help="Seconds without a request after which a connection with no live "
                    "subscription is closed (close code 4000); 0 keeps idle connections."),
    cfg.FloatOpt("push_interval", default=0.05, min=0.01,
                 help="Seconds between looks for new messages on queues that websocket "
                      "subscribers listen to, with a storage that does not announce "
                      "posts (SQL): the delivery channel there."),
    cfg.FloatOpt("push_safety_interval", default=1.0, min=0.01,
                 help="With a storage that announces posts (Redis pub/sub), subscribed "
                      "queues are looked at as soon as a post is announced, and every "
                      "this many seconds as well: the latest a message whose "
                      "announcement was lost (while reconnecting) is pushed."),
]
