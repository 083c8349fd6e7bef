"""Options of the ``[cors]`` group: cross-origin requests from browser clients.

The options are oslo.middleware's own (the CORS middleware reads them); only their
defaults are ours, so a browser may send and read the headers the v2 API uses. CORS is
off until ``allowed_origin`` is set.
"""
from oslo_middleware import cors

GROUP = "cors"

# The middleware registers these very objects again (registering one twice is a no-op,
# an equal copy would clash), so their defaults are set in place, once, at import.
cors.set_defaults(
    allow_headers=["Client-ID", "X-Project-ID", "X-Auth-Token", "Content-Type",
                   "URL-Signature", "URL-Expires", "URL-Methods", "URL-Paths"],
    expose_headers=["Location", "Content-Location"],
    allow_methods=["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"],
)
OPTS = cors.CORS_OPTS
