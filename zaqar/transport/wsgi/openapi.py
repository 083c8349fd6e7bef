"""The OpenAPI 3.1 document of the REST API, generated from the action registry.

Paths, methods and operation ids come from the routes the registry derives
(:func:`zaqar.transport.wsgi.routes.build_routes`), path fields from their templates,
and query parameters, bodies and success responses from
:data:`zaqar.api.openapi_schemas.OPERATIONS`. Where several actions share a method and
a path (``GET .../messages`` lists, or gets by ``ids``), the operation offers the query
parameters of each and any of their responses. Every operation answers errors as
``{"title", "description"}`` (4XX; 503 when storage is unavailable). Served at
``/v2/openapi.json``.
"""
import re
from collections.abc import Iterable
from typing import Any
from wsgiref.types import StartResponse, WSGIApplication, WSGIEnvironment

import falcon

from zaqar import jsoncodec
from zaqar.api import openapi_schemas as schemas
from zaqar.api.registry import BY_NAME
from zaqar.api.validation import MAX_ID, MAX_PROJECT_ID
from zaqar.transport.wsgi.routes import Route, build_routes

PATH = "/v2/openapi.json"
ERROR = schemas.obj(("title", "description"), title=schemas.STRING,
                    description=schemas.STRING)
_FIELD = re.compile(r"{(\w+)}")
_NAME = {"type": "string", "pattern": "^[a-zA-Z0-9_-]{1,64}$"}
_PATH_FIELDS: dict[str, schemas.Schema] = {
    "queue_name": _NAME, "pool_name": _NAME, "flavor_name": _NAME,
}
_HEADERS = [
    {"name": "Client-ID", "in": "header", "required": True,
     "description": "The client's UUID.", "schema": {"type": "string", "format": "uuid"}},
    {"name": "X-Project-ID", "in": "header", "required": True,
     "description": "The project (with authentication off; with Keystone, the token's).",
     "schema": {"type": "string", "minLength": 1, "maxLength": MAX_PROJECT_ID,
                "pattern": "^[\\x21-\\x7e]+$"}},
]


_UNDESCRIBED = schemas.Operation({200: {}, 201: {}, 204: None})


def document(admin_mode: bool = False, pooling: bool = False) -> dict[str, Any]:
    """The OpenAPI document of what a server in ``admin_mode`` (or not), with ``pooling``
    (or not), serves."""
    paths: dict[str, Any] = {}
    for path, methods in sorted(build_routes(admin_mode, pooling).items()):
        item: dict[str, Any] = {}
        fields = _FIELD.findall(path)
        if fields:
            item["parameters"] = [
                {"name": name, "in": "path", "required": True,
                 "schema": _PATH_FIELDS.get(name, {"type": "string", "minLength": 1,
                                                   "maxLength": MAX_ID})}
                for name in fields]
        for method, route in sorted(methods.items()):
            item[method.lower()] = _operation(method, route)
        paths[path] = item
    return {
        "openapi": "3.1.0",
        "info": {"title": "Zaqar v2 REST API (zaqar-lite)", "version": "2.0"},
        "paths": paths,
        "components": {"schemas": {"Error": ERROR}},
    }


def _operation(method: str, route: Route) -> dict[str, Any]:
    names = [route.action, *(action for _, action, _ in route.selected)]
    # An action without its data yet (tests/unit/api/test_openapi_schemas.py fails for
    # it) is documented loosely rather than keeping the server from starting.
    specs = [schemas.OPERATIONS.get(name, _UNDESCRIBED) for name in names]
    query: dict[str, schemas.Schema] = {}
    for spec in specs:
        query.update(spec.query)
    operation: dict[str, Any] = {
        "operationId": f"{route.action}_{method.lower()}" if method == "HEAD"
        else route.action,
        "summary": " / ".join(BY_NAME[name].description for name in names),
        "parameters": [*_HEADERS, *({"name": name, "in": "query", "required": False,
                                     "schema": schema} for name, schema in query.items())],
        "responses": _responses(method, specs),
    }
    spec = specs[0]
    if route.endpoint.body != "none" and spec.body is not None:
        media_type = route.endpoint.content_type or "application/json"
        operation["requestBody"] = {"required": spec.body_required,
                                    "content": {media_type: {"schema": spec.body}}}
    return operation


def _responses(method: str, specs: list[schemas.Operation]) -> dict[str, Any]:
    by_status: dict[int, list[schemas.Schema | None]] = {}
    media_type = specs[0].media_type
    for spec in specs:
        for status, body in spec.responses.items():
            by_status.setdefault(status, []).append(body)
    responses: dict[str, Any] = {}
    for status, bodies in sorted(by_status.items()):
        response: dict[str, Any] = {"description": f"{status}"}
        kept = [body for body in bodies if body is not None]
        if kept and method != "HEAD" and status != 204:
            schema = kept[0] if len(kept) == 1 else {"anyOf": kept}
            response["content"] = {media_type: {"schema": schema}}
        responses[str(status)] = response
    error = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
    if method == "HEAD":
        error = {}
    responses["4XX"] = {"description": "The request is refused.", **error}
    responses["503"] = {"description": "Storage is unavailable.", **error}
    return responses


class OpenApiResource:
    """``GET /v2/openapi.json``: served without a Client-ID, a project or a token, as the
    versions document at ``/``."""

    def __init__(self, admin_mode: bool, pooling: bool = False) -> None:
        self.data = jsoncodec.dumps(document(admin_mode, pooling))

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.data = self.data
        resp.content_type = falcon.MEDIA_JSON


def outside_auth(protected: WSGIApplication, unprotected: WSGIApplication) -> WSGIApplication:
    """``protected`` for every path but the document's, which ``unprotected`` serves."""
    def route(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == PATH:
            return unprotected(environ, start_response)
        return protected(environ, start_response)
    return route
