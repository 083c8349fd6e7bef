"""Options of the ``[transport]`` group: defaults and limits shared by every transport."""
from oslo_config import cfg

GROUP = "transport"

OPTS = [
    cfg.IntOpt("default_message_ttl", default=3600, help="Message TTL when a post gives none."),
    cfg.IntOpt("default_message_delay", default=0, help="Message delay when a post gives none."),
    cfg.IntOpt("default_claim_ttl", default=300, help="Claim TTL when a claim gives none."),
    cfg.IntOpt("default_claim_grace", default=60, help="Claim grace when a claim gives none."),
    cfg.IntOpt("default_subscription_ttl", default=3600,
               help="Subscription TTL when a subscription gives none."),
    cfg.IntOpt("max_queues_per_page", default=20, help="Most queues a page may list."),
    cfg.IntOpt("max_messages_per_page", default=20,
               help="Most messages a page may list, and most ids a bulk get or delete may name."),
    cfg.IntOpt("max_subscriptions_per_page", default=20,
               help="Most subscriptions a page may list."),
    cfg.IntOpt("max_pools_per_page", default=20, min=1,
               help="Most pools a page may list (the admin API, with pooling)."),
    cfg.IntOpt("max_flavors_per_page", default=20, min=1,
               help="Most flavors a page may list (the admin API, with pooling)."),
    cfg.IntOpt("max_messages_per_claim_or_pop", default=20,
               help="Most messages one claim or pop may take."),
    cfg.IntOpt("max_queue_metadata", default=64 * 1024,
               help="Largest queue metadata document, in bytes of JSON."),
    cfg.IntOpt("max_messages_post_size", default=256 * 1024,
               help="Largest message post request body, in bytes."),
    cfg.IntOpt("max_message_ttl", default=1209600, help="Largest message TTL, in seconds."),
    cfg.IntOpt("max_message_delay", default=900, help="Largest message delay, in seconds."),
    cfg.IntOpt("max_claim_ttl", default=43200, help="Largest claim TTL, in seconds."),
    cfg.IntOpt("max_claim_grace", default=43200, help="Largest claim grace, in seconds."),
    cfg.FloatOpt("queue_metadata_cache_ttl", default=1.0, min=0,
                 help="Seconds a process keeps a queue's metadata for message posts. A "
                      "change made through another process reaches its posts within this "
                      "time; 0 reads storage on every post."),
    cfg.ListOpt("subscriber_types", default=["http", "https", "mailto", "trust+http",
                                             "trust+https"],
                help="URI schemes a subscriber may use."),
    cfg.StrOpt("client_id_uuid_safe", default="strict",
               choices=[("strict", "Client-ID must be a UUID"),
                        ("off", "any string of min_length_client_id to "
                                "max_length_client_id characters")],
               help="How strictly the Client-ID header is checked."),
    cfg.IntOpt("min_length_client_id", default=10,
               help="Shortest Client-ID accepted when client_id_uuid_safe is off."),
    cfg.StrOpt("message_encryption_algorithms", default="AES256", choices=[
        ("AES256", "AES-256-GCM, a random nonce per message")],
               help="How the bodies of queues with _enable_encrypt_messages are encrypted "
                    "at rest."),
    cfg.StrOpt("message_encryption_key", secret=True,
               help="The key of message encryption: any string (its SHA-256 is the AES "
                    "key, as upstream derives it). Unset: a random key is generated once "
                    "into [DEFAULT] data_dir (message_encryption_key, mode 0600) when a "
                    "queue first enables encryption; every node needs the same key, so "
                    "set it for more than one. Upstream's default, the public 'AES256', "
                    "is no key."),
    cfg.ListOpt("message_encryption_old_keys", default=[], secret=True,
                help="Keys that bodies encrypted before a key rotation were sealed "
                     "with: they are still read, and new bodies use "
                     "message_encryption_key."),
    cfg.IntOpt("max_length_client_id", default=36,
               help="Longest Client-ID accepted when client_id_uuid_safe is off."),
]
