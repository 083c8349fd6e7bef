"""The versions document at ``/``: the one request served without a Client-ID or a token."""
import json

import falcon

VERSIONS = {
    "versions": [{
        "id": "2",
        "status": "CURRENT",
        # Sic: upstream's date has no leading zero in its month.
        "updated": "2014-9-24T04:06:47Z",
        "media-types": [{"base": "application/json",
                         "type": "application/vnd.openstack.messaging-v2+json"}],
        "links": [{"href": "/v2/", "rel": "self"}],
    }],
}


class VersionsResource:
    data = json.dumps(VERSIONS).encode()

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.status = falcon.HTTP_300
        resp.data = self.data
        resp.content_type = falcon.MEDIA_JSON
