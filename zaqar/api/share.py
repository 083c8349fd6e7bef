"""Sharing a queue: ``queue_share`` signs a pre-signed URL (see zaqar.auth.signed_url)."""
from datetime import UTC, datetime, timedelta
from functools import cached_property
from typing import Any

from zaqar.api.base import Actions
from zaqar.api.errors import BadRequest
from zaqar.api.request import Response, ScopedRequest
from zaqar.auth import secret_key, signed_url

DEFAULT_LIFETIME = timedelta(days=1)  # upstream's
_KNOWN_KEYS = frozenset({"queue_name", "methods", "paths", "expires"})


class ShareActions(Actions):
    @cached_property
    def _secret_key(self) -> str:
        """Configured, or generated once into data_dir (zaqar.auth.secret_key)."""
        return secret_key.load_or_create(self.conf)

    def queue_share(self, req: ScopedRequest) -> Response:
        """200 ``{signature, expires, paths, methods, project}`` granting ``methods``
        (default GET) on the queue's ``paths`` (of messages, subscriptions, claims;
        default messages) until ``expires`` (ISO 8601, UTC; default in a day)."""
        name = self.validate.queue_name(req.params.get("queue_name"))
        unknown = set(req.params) - _KNOWN_KEYS
        if unknown:
            raise BadRequest(f"Unknown keys: {', '.join(sorted(unknown))}.")
        methods = _names(req.params.get("methods", ["GET"]), "methods", signed_url.METHODS)
        paths = _names(req.params.get("paths", ["messages"]), "paths", signed_url.RESOURCES)
        expires = _expires(req.params.get("expires"))
        return Response(200, signed_url.sign(self._secret_key, name, paths, methods,
                                             req.project, expires))


def _names(value: Any, field: str, allowed: tuple[str, ...]) -> list[str]:
    if (not isinstance(value, list) or not value
            or not all(isinstance(item, str) and item in allowed for item in value)):
        raise BadRequest(f"{field} must be a non-empty list of: {', '.join(allowed)}.")
    return value


def _expires(value: Any) -> datetime:
    now = datetime.now(UTC).replace(tzinfo=None)
    if value is None:
        return (now + DEFAULT_LIFETIME).replace(microsecond=0)
    try:
        expires = signed_url.parse_expires(value)
    except (ValueError, OverflowError):
        raise BadRequest("expires must be an ISO 8601 time in UTC, such as "
                         "2030-01-01T00:00:00.") from None
    if expires <= now:
        raise BadRequest("expires must be in the future.")
    return expires
