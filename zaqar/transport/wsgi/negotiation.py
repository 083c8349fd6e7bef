"""Media types, checked before anything else of a request, in upstream Zaqar's order:
a form-encoded body is refused (400: every body is JSON), then a request that does not
accept JSON (406: every answer is JSON).

One exemption: the live dashboard's paths (``/dashboard``, zaqar/transport/wsgi/dashboard.py)
answer HTML, JavaScript and CSS to browsers, which ask for those (``Accept:
text/html,...``) and not for JSON."""
import falcon

from zaqar.transport.wsgi.dashboard import is_dashboard_path

FORM = "application/x-www-form-urlencoded"


class RequireJson:
    """Falcon middleware. An absent or empty ``Accept`` accepts anything; a body without
    ``Content-Type`` is read as JSON."""

    def process_request(self, req: falcon.Request, resp: falcon.Response) -> None:
        if req.content_length is not None and (req.content_type or "").lower() == FORM:
            raise falcon.HTTPBadRequest(
                title="Invalid Content-Type",
                description=f"Request bodies are JSON (application/json), not {FORM}; "
                            "set the Content-Type header.")
        if not req.client_accepts_json and not is_dashboard_path(req.path):
            raise falcon.HTTPNotAcceptable(
                title="Not acceptable",
                description="Every answer of this API is JSON (application/json); the "
                            "Accept header of the request excludes it.")
