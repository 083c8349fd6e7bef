"""``GET /metrics`` (Prometheus) and the count of every REST response.

``/metrics`` is served outside authentication (scrapers carry no Keystone token) to
the networks of ``[drivers:transport:wsgi] metrics_allowed_networks`` only (loopback by
default; empty: not served, 404); others get 403. Its labels name actions, statuses,
transports and subscriber schemes, never a project, queue or client. Behind a reverse
proxy the peer address is the proxy's: scrape the server directly, or keep the proxy
from forwarding ``/metrics``.
"""
import ipaddress
from collections.abc import Iterable
from wsgiref.types import StartResponse, WSGIApplication, WSGIEnvironment

from zaqar import codec, metrics
from zaqar.api import errors
from zaqar.transport.wsgi.resources import PARKED

PATH = "/metrics"
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(values: Iterable[str]) -> list[Network]:
    """Raises ValueError naming a value that is no address or network."""
    networks = []
    for value in values:
        try:
            networks.append(ipaddress.ip_network(value.strip(), strict=False))
        except ValueError:
            raise ValueError(f"[drivers:transport:wsgi] metrics_allowed_networks: "
                             f"{value!r} is not an address or a network.") from None
    return networks


def _allowed(environ: WSGIEnvironment, networks: list[Network]) -> bool:
    try:
        peer = ipaddress.ip_address(environ.get("REMOTE_ADDR", ""))
    except ValueError:  # a unix socket: the operator chose who may connect
        return True
    if isinstance(peer, ipaddress.IPv6Address) and peer.ipv4_mapped is not None:
        peer = peer.ipv4_mapped
    return any(peer in network for network in networks)


def _error(start_response: StartResponse, status: str, error: errors.ApiError
           ) -> list[bytes]:
    body = codec.encode_error(error)
    start_response(status, [("Content-Type", "application/json"),
                            ("Content-Length", str(len(body)))])
    return [body]


def serve_metrics(app: WSGIApplication, networks: list[Network]) -> WSGIApplication:
    """``app`` with ``/metrics`` in front of it and its responses counted."""
    def route(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        method = environ.get("REQUEST_METHOD", "")
        if environ.get("PATH_INFO") == PATH and networks:
            if method not in ("GET", "HEAD"):
                return _error(start_response, "405 Method Not Allowed", errors.ApiError(
                    "/metrics answers GET only.", "Method not allowed"))
            if not _allowed(environ, networks):
                return _error(start_response, "403 Forbidden", errors.Forbidden(
                    "This address may not read /metrics "
                    "([drivers:transport:wsgi] metrics_allowed_networks)."))
            body, content_type = metrics.render()
            start_response("200 OK", [("Content-Type", content_type),
                                      ("Content-Length", str(len(body)))])
            return [body]

        def counted(status: str, headers: list[tuple[str, str]], exc_info: object = None
                    ) -> object:
            if not environ.get(PARKED):  # a long poll that will answer later
                label = method if method in _METHODS else "other"
                metrics.metrics().http_responses.labels(label, status[:3]).inc()
            return start_response(status, headers, exc_info)  # type: ignore[arg-type]

        return app(environ, counted)  # type: ignore[arg-type]
    return route
