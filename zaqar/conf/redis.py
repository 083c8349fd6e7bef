"""Options of the ``[drivers:message_store:redis]`` group."""
from oslo_config import cfg

GROUP = "drivers:message_store:redis"

OPTS = [
    cfg.StrOpt("uri", default="redis://127.0.0.1:6379/0", secret=True,
               help="Redis connection URI, in one of these forms. A server: "
                    "redis://[[user]:password@]host[:port][/db] (rediss:// for TLS). "
                    "Sentinel: redis+sentinel://[[user]:password@]host1[:port1][,host2"
                    "[:port2],...]/master[/db], or, as upstream Zaqar documents it, "
                    "redis://host1[:port1][,host2[:port2],...]?master=name; each host is a "
                    "sentinel (port 26379 unless given) and the password is the master's "
                    "(sentinel_username and sentinel_password in the query authenticate "
                    "to the sentinels). A unix socket: redis:///path/to/redis.sock, "
                    "redis://:password@/path/to/redis.sock or unix:///path/to/redis.sock. "
                    "A Redis Cluster: redis+cluster://[[user]:password@]host1[:port1][,"
                    "host2[:port2],...] (rediss+cluster:// for TLS), naming some of its "
                    "nodes (the client learns the others); a cluster has database 0 only "
                    "and key_prefix may not hold braces there (docs/storage.md, Redis "
                    "Cluster). In every form the database may also be given in the query as db=N "
                    "(or upstream's dbid=N), and socket_timeout=seconds overrides the "
                    "option below."),
    cfg.StrOpt("key_prefix", default="zaqar",
               help="Prefix of every key the driver writes, so that several deployments "
                    "(or test runs) can share one Redis database."),
    cfg.IntOpt("max_reconnect_attempts", default=3, min=0,
               help="Times a command is sent again after the connection failed (a "
                    "restart, a Sentinel failover). A command whose connection broke "
                    "after it was sent may run twice: a post may then be stored twice."),
    cfg.FloatOpt("reconnect_sleep", default=0.5, min=0,
                 help="Seconds before the first reconnection attempt; each further "
                      "attempt waits twice as long as the one before."),
    cfg.FloatOpt("socket_timeout", default=5.0, min=0,
                 help="Seconds to wait for a reply from Redis before the request "
                      "fails with 503."),
    cfg.FloatOpt("socket_connect_timeout", default=2.0, min=0,
                 help="Seconds to wait for a connection to Redis (or a sentinel)."),
]
