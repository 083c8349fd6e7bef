"""Static documents: the versions document at ``/`` and the JSON home at ``/v2/``."""
import json

import falcon

from zaqar.transport.wsgi.routes import ROUTES

VERSIONS = {
    "versions": [{
        "id": "2",
        "status": "CURRENT",
        "updated": "2014-09-24T04:06:47Z",
        "media-types": [{"base": "application/json",
                         "type": "application/vnd.openstack.messaging-v2+json"}],
        "links": [{"href": "/v2/", "rel": "self"}],
    }],
}


def _home() -> dict:
    resources = {}
    for path, methods in ROUTES.items():
        relation = "rel/" + methods[next(iter(methods))].action.split("_")[0] + path.replace(
            "/v2", "").replace("/", "_").replace("{", "").replace("}", "")
        resources[relation] = {
            "href-template": path,
            "href-vars": {name.strip("{}"): f"param/{name.strip('{}')}"
                          for name in path.split("/") if name.startswith("{")},
            "hints": {"allow": sorted(methods), "formats": {"application/json": {}}},
        }
    return {"resources": resources}


class VersionsResource:
    data = json.dumps(VERSIONS).encode()

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.status = falcon.HTTP_300
        resp.data = self.data
        resp.content_type = falcon.MEDIA_JSON


class HomeResource:
    data = json.dumps(_home()).encode()

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.data = self.data
        resp.content_type = "application/json-home"
