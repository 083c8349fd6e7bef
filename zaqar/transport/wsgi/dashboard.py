"""The routes of the live dashboard (zaqar/dashboard/): its static files and the small
generated document telling the page where the websocket API is.

These answer HTML, JavaScript and CSS, so the JSON-only Accept check
(zaqar/transport/wsgi/negotiation.py) exempts :data:`PREFIX`; they carry no data of
any project, so they are served without a token when Keystone protects the API
(:func:`outside_auth`): the page authenticates over the websocket API itself.
"""
import json
from collections.abc import Iterable
from wsgiref.types import StartResponse, WSGIApplication, WSGIEnvironment

import falcon
from oslo_config import cfg

from zaqar import dashboard
from zaqar.api import errors

PREFIX = "/dashboard"
# Small files that change with a release: revalidate rather than serve a stale page.
_CACHE_CONTROL = "no-cache"
# The page loads only its own files and talks only to the websocket API.
_SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; connect-src 'self' ws: wss:; "
                               "img-src 'self' data:; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": _CACHE_CONTROL,
}


def is_dashboard_path(path: str) -> bool:
    return path == PREFIX or path.startswith(PREFIX + "/")


class _StaticFile:
    def _send(self, resp: falcon.Response, name: str) -> None:
        try:
            resp.data = dashboard.read(name)
        except KeyError:
            raise errors.NotFound(f"The dashboard has no file {name!r}.",
                                  "Not found") from None
        resp.content_type = dashboard.STATIC_FILES[name]
        resp.set_headers(_SECURITY_HEADERS)


class PageResource(_StaticFile):
    """``/dashboard/``: the page."""

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        self._send(resp, "index.html")

    on_head = on_get


class RedirectResource:
    """``/dashboard``: to ``/dashboard/``, so the page's relative links resolve."""

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        raise falcon.HTTPMovedPermanently(PREFIX + "/")

    on_head = on_get


class StaticResource(_StaticFile):
    """``/dashboard/static/{name}``: the page's script and style sheet."""

    def on_get(self, req: falcon.Request, resp: falcon.Response, name: str) -> None:
        self._send(resp, name)

    on_head = on_get


class ConfigResource:
    """``/dashboard/config.json``: where the websocket API is and how to sign in."""

    def __init__(self, conf: cfg.ConfigOpts) -> None:
        websocket = conf["drivers:transport:websocket"]
        served = "websocket" in conf.drivers.transport
        self.document = json.dumps({
            # null: the page's own host at websocket_port.
            "websocket_url": conf.dashboard.websocket_url if served else None,
            "websocket_port": websocket.port if served else None,
            "auth": "keystone" if conf.auth_strategy == "keystone" else "project",
        }).encode()

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.data = self.document
        resp.content_type = falcon.MEDIA_JSON
        resp.cache_control = [_CACHE_CONTROL]

    on_head = on_get


def add_routes(app: falcon.App, conf: cfg.ConfigOpts) -> None:
    """The dashboard's routes, when ``[dashboard] enabled``."""
    if not conf.dashboard.enabled:
        return
    app.add_route(PREFIX, RedirectResource())
    app.add_route(PREFIX + "/", PageResource())
    app.add_route(PREFIX + "/config.json", ConfigResource(conf))
    app.add_route(PREFIX + "/static/{name}", StaticResource())


def outside_auth(protected: WSGIApplication, unprotected: WSGIApplication) -> WSGIApplication:
    """``protected`` for everything but the dashboard's paths, which ``unprotected``
    serves: a browser loads the page without a token and signs in from it."""
    def route(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        if is_dashboard_path(environ.get("PATH_INFO", "")):
            return unprotected(environ, start_response)
        return protected(environ, start_response)
    return route
