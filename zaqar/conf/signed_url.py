"""Options of the ``[signed_url]`` group: pre-signed URLs (``POST /v2/queues/{q}/share``)."""
from oslo_config import cfg

GROUP = "signed_url"

OPTS = [
    cfg.StrOpt("secret_key", secret=True,
               help="Key of the HMAC-SHA256 signatures of pre-signed URLs. Unset: queues "
                    "cannot be shared and every signed request is refused. Changing it "
                    "revokes every URL signed so far."),
]
