"""Transport-neutral request and response objects."""
from dataclasses import dataclass, field, fields
from typing import Any

from zaqar.api.errors import BadRequest
from zaqar.auth.credentials import Credentials
from zaqar.auth.signed_url import SignedHeaders


@dataclass(slots=True)
class Request:
    """One call of an action.

    ``params`` uses the action's own vocabulary (the websocket body keys: ``queue_name``,
    ``message_ids``, ``ttl``...); transports translate their paths and query strings into
    it. ``project`` and ``client_id`` are as the caller sent them: the dispatcher checks
    them and hands actions scoped to a project a :class:`ScopedRequest`. ``body_size`` is
    the size in bytes of the encoded request body, when known. ``credentials`` is the
    identity the transport authenticated (a validated token), ``signature`` the
    pre-signed URL headers the request carries: the dispatcher decides from them.
    """

    project: str | None
    client_id: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    body_size: int | None = None
    # Set by a transport that can push to the caller itself (a websocket connection):
    # the subscriber recorded when ``subscription_create`` names none.
    push_subscriber: str | None = None
    credentials: Credentials | None = None
    signature: SignedHeaders | None = None

    def scoped(self, project: str, client_id: str) -> "ScopedRequest":
        """This request with the project and Client-ID the dispatcher checked."""
        values = {item.name: getattr(self, item.name) for item in fields(self)}
        return ScopedRequest(**{**values, "project": project, "client_id": client_id})


@dataclass(slots=True)
class ScopedRequest(Request):
    """A request whose project and Client-ID have been checked: what actions scoped to a
    project receive, so the type says the checks ran."""

    project: str
    client_id: str


@dataclass(slots=True)
class Response:
    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


def merge_document(params: dict[str, Any], document: Any,
                   required: tuple[str, ...] = ()) -> dict[str, Any]:
    """Fold a JSON request document into ``params``; the transport's own keys win.

    Raises BadRequest when the document is not a JSON object, or lacks a ``required``
    key (a body may be absent: then nothing is required).
    """
    if document is None:
        return params
    if not isinstance(document, dict):
        raise BadRequest("The request body must be a JSON object.")
    for key in required:
        if key not in document:
            raise BadRequest(f'The request body must contain the key "{key}".')
    return {**document, **params}
