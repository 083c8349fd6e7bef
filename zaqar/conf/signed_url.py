"""Options of the ``[signed_url]`` group: pre-signed URLs (``POST /v2/queues/{q}/share``)."""
from oslo_config import cfg

GROUP = "signed_url"

OPTS = [
    cfg.StrOpt("secret_key", secret=True,
               help="Key of the HMAC-SHA256 signatures of pre-signed URLs. Unset: a "
                    "random key is generated once and kept in [DEFAULT] data_dir "
                    "(signed_url_secret_key, mode 0600); a deployment of several nodes "
                    "must set the same key on each. Changing it revokes every URL signed "
                    "so far."),
]
