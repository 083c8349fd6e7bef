"""Options of the ``[drivers:message_store:mongodb]`` group (upstream's names)."""
from oslo_config import cfg

GROUP = "drivers:message_store:mongodb"

OPTS = [
    cfg.StrOpt("uri", default="mongodb://127.0.0.1:27017", secret=True,
               help="MongoDB connection URI (pymongo's form): a server, a replica set "
                    "(mongodb://h1,h2,h3/?replicaSet=rs0) or mongodb+srv://. TLS and "
                    "authentication are URI options (tls=true, tlsCAFile=..., "
                    "tlsCertificateKeyFile=..., authSource=...)."),
    cfg.StrOpt("database", default="zaqar",
               help="Database holding the driver's collections (queues, messages, "
                    "claims, subscriptions)."),
    cfg.IntOpt("max_attempts", default=1000, min=1,
               help="Times a message post (or a dead-letter move, or a queue deletion) "
                    "tries to take its queue's numbering lock while another process "
                    "holds it, before it fails with 503."),
    cfg.FloatOpt("max_retry_sleep", default=0.1, min=0,
                 help="Longest sleep, in seconds, between two attempts to take a queue's "
                      "numbering lock (the sleep grows linearly with the attempts)."),
    cfg.FloatOpt("max_retry_jitter", default=0.005, min=0,
                 help="Longest random jitter, in seconds, added to each of those sleeps, "
                      "so that waiting processes do not retry at the same instant."),
    cfg.FloatOpt("reconnect_sleep", default=0.020, min=0,
                 help="Seconds before the post watch (websocket push) opens its change "
                      "stream or poll again after losing the server; each further attempt "
                      "waits twice as long, up to 10 s."),
]
