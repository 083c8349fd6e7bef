"""One thin Falcon resource per route: parse, dispatch to the api layer, render.

A claim or listing with ``wait=N`` that found nothing (zaqar.api.long_poll) is run again
when its queue may have messages: the keep-alive worker parks it through the
``zaqar.park`` callable it puts in the environ (no thread held); other servers wait in
the request's thread.
"""
import time
from typing import Any

import falcon

from zaqar import codec
from zaqar.api import Api, Request, errors, long_poll
from zaqar.api.registry import Endpoint
from zaqar.api.request import merge_document
from zaqar.auth.keystone import credentials_from_environ
from zaqar.auth.signed_url import SignedHeaders
from zaqar.transport.long_poll import PostWaker
from zaqar.transport.wsgi.routes import Route

# Offered by the keep-alive worker: park(waker, key, deadline, consumes) keeps the request
# for a later run instead of answering now.
PARK = "zaqar.park"
# Set by the keep-alive worker on a parked request's later runs: when its wait ends.
DEADLINE = "zaqar.long_poll_deadline"
# Set here on a run that parked its request (what the application answered is not sent).
PARKED = "zaqar.parked"


class ActionResource:
    """Serves every method of one path; ``on_<method>`` responders are set per route."""

    def __init__(self, api: Api, methods: dict[str, Route], body_limit: int,
                 waker: PostWaker) -> None:
        self._api = api
        self._waker = waker
        self._methods = methods
        self._body_limit = body_limit
        for method in methods:
            setattr(self, f"on_{method.lower()}", self._respond)

    def _respond(self, req: falcon.Request, resp: falcon.Response, **path: str) -> None:
        action, endpoint = self._methods[req.method].choose(req.params)
        params: dict[str, Any] = {endpoint.query_names.get(key, key): value
                                  for key, value in req.params.items()}
        params.update(path)
        size = None
        if endpoint.body != "none":
            document, size = self._read_document(req, endpoint)
            if endpoint.body == "merge":
                params = merge_document(params, document, endpoint.required)
            elif document is not None:
                params[endpoint.body] = document
        request = Request(
            project=req.get_header("X-Project-ID"), client_id=req.get_header("Client-ID"),
            params=params, body_size=size, credentials=credentials_from_environ(req.env),
            signature=SignedHeaders.from_headers(req.get_header))
        result = self._api.dispatch(action, request)
        wait = long_poll.wait_seconds(action, params, result)
        if wait:
            key = (params["queue_name"], self._api.scope(action, request).project)
            deadline = req.env.get(DEADLINE) or time.monotonic() + wait
            park = req.env.get(PARK)
            if park is not None:  # the keep-alive worker runs this request again later
                if deadline > time.monotonic():
                    park(self._waker, key, deadline, long_poll.consumes(action))
                    req.env[PARKED] = True  # no answer yet: nothing to count
                    return
            else:  # a thread per request: this one waits
                while (left := deadline - time.monotonic()) > 0 and wait:
                    self._waker.wait(key, left)
                    result = self._api.dispatch(action, request)
                    wait = long_poll.wait_seconds(action, params, result)
        resp.status = result.status
        for name, value in result.headers.items():
            resp.set_header(name, value)
        if result.body is not None and result.status != 204:
            resp.data = codec.encode_json(result.body)
            if "Content-Type" not in result.headers:
                resp.content_type = falcon.MEDIA_JSON

    def _read_document(self, req: falcon.Request, route: Endpoint) -> tuple[Any, int]:
        if route.content_type and req.content_type != route.content_type:
            raise errors.UnsupportedMediaType(f"Accepted media type for {req.method}: "
                                              f"{route.content_type}.")
        length = req.content_length
        if length is not None and length > self._body_limit:
            raise errors.PayloadTooLarge(f"The request body is {length} bytes; the most "
                                         f"accepted is {self._body_limit} bytes.")
        # Falcon's bounded_stream reads a body without Content-Length (chunked) as empty;
        # a server that marks wsgi.input terminated (gunicorn, mod_wsgi) ends it for us.
        chunked = length is None and req.env.get("wsgi.input_terminated")
        stream = req.stream if chunked else req.bounded_stream
        raw = stream.read(self._body_limit + 1)
        if len(raw) > self._body_limit:
            raise errors.PayloadTooLarge(f"The request body is over {self._body_limit} bytes.")
        if not raw.strip():
            return None, 0
        return codec.decode_json(raw), len(raw)
