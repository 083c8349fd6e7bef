"""Builds the Falcon WSGI application over an :class:`~zaqar.api.Api`."""
import logging
from typing import Any
from wsgiref.types import WSGIApplication

import falcon
from oslo_config import cfg

from zaqar import codec
from zaqar.api import Api, Request, Response, errors
from zaqar.auth import keystone
from zaqar.metrics import observe_dispatch
from zaqar.transport.long_poll import PostWaker
from zaqar.transport.wsgi import dashboard, metrics, openapi
from zaqar.transport.wsgi.documents import VersionsResource
from zaqar.transport.wsgi.negotiation import RequireJson
from zaqar.transport.wsgi.resources import ActionResource
from zaqar.transport.wsgi.routes import build_routes

LOG = logging.getLogger(__name__)


def _render_api_error(req: falcon.Request, resp: falcon.Response, error: errors.ApiError,
                      params: dict[str, Any]) -> None:
    resp.status = error.status
    resp.data = codec.encode_error(error)
    resp.content_type = falcon.MEDIA_JSON


def _render_http_error(req: falcon.Request, resp: falcon.Response,
                       error: falcon.HTTPError) -> None:
    """Falcon's own errors (no route, method not allowed...) in our error shape."""
    resp.data = codec.encode_error(errors.ApiError(error.description or error.title or "",
                                                   error.title or "Error"))
    resp.content_type = falcon.MEDIA_JSON


def _render_unexpected(req: falcon.Request, resp: falcon.Response, error: Exception,
                       params: dict[str, Any]) -> None:
    if isinstance(error, falcon.HTTPError):
        raise error
    LOG.exception("Unexpected error serving %s %s", req.method, req.path)
    resp.status = falcon.HTTP_500
    resp.data = codec.encode_error(errors.Unexpected())
    resp.content_type = falcon.MEDIA_JSON


def body_limit(conf: cfg.ConfigOpts) -> int:
    """Bodies past this are refused unread (413); within it the api layer applies the
    precise per-document limits (400, as upstream)."""
    return 2 * max(conf.transport.max_messages_post_size, conf.transport.max_queue_metadata)


def post_waker(api: Api, conf: cfg.ConfigOpts) -> PostWaker:
    """The process's long-poll hub; posts served here wake its waiters at once."""
    group = conf["drivers:transport:wsgi"]
    waker = PostWaker(api.storage, group.long_poll_interval, group.long_poll_recheck)

    def announce(action: str, req: Request, response: Response) -> None:
        if action == "message_post" and waker.waiting:
            waker.announce((req.params["queue_name"], api.scope(action, req).project))

    observe_dispatch(api, "rest", on_success=announce)
    return waker


def create_app(api: Api, conf: cfg.ConfigOpts) -> falcon.App:
    app = falcon.App(media_type=falcon.MEDIA_JSON, middleware=[RequireJson()])
    app.req_options.auto_parse_qs_csv = False
    app.req_options.keep_blank_qs_values = False
    app.resp_options.secure_cookies_by_default = False
    app.add_error_handler(Exception, _render_unexpected)
    app.add_error_handler(errors.ApiError, _render_api_error)
    app.set_error_serializer(_render_http_error)
    app.add_route("/", VersionsResource())
    app.add_route(openapi.PATH, openapi.OpenApiResource(conf.admin_mode, conf.pooling))
    limit = body_limit(conf)
    waker = post_waker(api, conf)
    for path, methods in build_routes(conf.admin_mode, conf.pooling).items():
        app.add_route(path, ActionResource(api, methods, limit, waker))
    dashboard.add_routes(app, conf)
    return app


def create_wsgi_app(api: Api, conf: cfg.ConfigOpts) -> WSGIApplication:
    """The REST app inside its middleware: Keystone's auth_token when ``[DEFAULT]
    auth_strategy = keystone``, and CORS (outermost, so that browsers' preflight requests
    need no token) when ``[cors] allowed_origin`` is set; ``/metrics`` in front of all
    (zaqar.transport.wsgi.metrics). Raises ValueError for a malformed
    ``metrics_allowed_networks``."""
    networks = metrics.parse_networks(conf["drivers:transport:wsgi"].metrics_allowed_networks)
    app: WSGIApplication = create_app(api, conf)
    if conf.auth_strategy == "keystone":
        app = openapi.outside_auth(dashboard.outside_auth(keystone.protect(app, conf), app),
                                   app)
    if conf.cors.allowed_origin:
        from oslo_middleware import cors

        app = cors.CORS(app, conf)
    return metrics.serve_metrics(app, networks)
