"""Pre-signed URLs: an HMAC-SHA256 grant of some methods on some resources of one queue.

``POST /v2/queues/{q}/share`` signs a grant (:func:`sign`); a request then carries it in
the ``URL-Signature``, ``URL-Expires``, ``URL-Methods``, ``URL-Paths`` and
``X-Project-ID`` headers (:class:`SignedHeaders`) and may run, without a token, exactly
the actions whose REST method and path the grant names, until it expires
(:func:`verify`, :meth:`Grant.allows`). The signed text is upstream Zaqar's, so a URL
signed by either service verifies on both when they share the key.
"""
import hashlib
import hmac
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

# The resources of a queue a URL may grant, and the methods.
RESOURCES = ("messages", "subscriptions", "claims")
METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")
EXPIRES_FORMAT = "%Y-%m-%dT%H:%M:%S"  # UTC, whole seconds
_SIGNED_PATH = re.compile(r"/v2/queues/([a-zA-Z0-9_-]{1,64})/(messages|subscriptions|claims)")

def queue_path(queue: str, resource: str) -> str:
    return f"/v2/queues/{queue}/{resource}"


def parse_expires(value: str) -> datetime:
    """An ISO 8601 time as a naive UTC datetime (no zone means UTC).

    Raises ValueError for anything else, numbers included (upstream refuses them too).
    """
    if not isinstance(value, str) or value.strip().lstrip("+-").isdigit():
        raise ValueError("expires must be an ISO 8601 time such as 2030-01-01T00:00:00")
    moment = datetime.fromisoformat(value.strip())
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment.replace(microsecond=0)


def _signature(key: str, paths: Iterable[str], methods: Iterable[str], project: str,
               expires: str) -> str:
    # Upstream joins the fields with a literal backslash and "n" (a raw string), not a
    # newline; kept for interoperability.
    text = "\\n".join([",".join(sorted(paths)), ",".join(sorted(methods)), project, expires])
    return hmac.new(key.encode(), text.encode(), hashlib.sha256).hexdigest()


def sign(key: str, queue: str, resources: Iterable[str], methods: Iterable[str],
         project: str, expires: datetime) -> dict[str, object]:
    """The share document: ``{signature, expires, paths, methods, project}``.

    Inputs are trusted (the api layer validated them); ``expires`` is naive UTC.
    """
    paths = sorted(queue_path(queue, resource) for resource in set(resources))
    methods = sorted(set(methods))
    expires_text = expires.strftime(EXPIRES_FORMAT)
    return {"signature": _signature(key, paths, methods, project, expires_text),
            "expires": expires_text, "paths": paths, "methods": methods, "project": project}


@dataclass(frozen=True, slots=True)
class SignedHeaders:
    """The signature headers of one request, as sent (empty strings for missing ones)."""

    signature: str
    expires: str
    methods: tuple[str, ...]
    paths: tuple[str, ...]
    project: str

    @classmethod
    def from_headers(cls, header: Callable[[str], str | None]) -> "SignedHeaders | None":
        """From a header lookup; None when the request carries no ``URL-Signature``."""
        signature = header("URL-Signature")
        if signature is None:
            return None

        def listed(name: str) -> tuple[str, ...]:
            return tuple(item.strip() for item in (header(name) or "").split(","))

        return cls(signature=signature, expires=header("URL-Expires") or "",
                   methods=listed("URL-Methods"), paths=listed("URL-Paths"),
                   project=header("X-Project-ID") or "")


@dataclass(frozen=True, slots=True)
class Grant:
    """What a valid signature allows: these methods on these (queue, resource) pairs."""

    project: str
    methods: frozenset[str]
    resources: frozenset[tuple[str, str]]

    def allows(self, access: tuple[str, str] | None, queue: object) -> bool:
        """Whether the grant covers ``access`` (REST method, resource of a queue; an
        action's, see zaqar.api.registry) on ``queue``; None is never granted."""
        if access is None or not isinstance(queue, str):
            return False
        method, resource = access
        return method in self.methods and (queue, resource) in self.resources


def verify(key: str | None, headers: SignedHeaders, now: datetime | None = None) -> Grant | None:
    """The grant of a signature that is genuine and unexpired; None otherwise (no key
    configured, any field altered, malformed or expired)."""
    if not key or not headers.signature.isascii() or not headers.project:
        return None
    try:
        expires = parse_expires(headers.expires)
    except ValueError:
        return None
    if (now or datetime.now(UTC).replace(tzinfo=None)) >= expires:
        return None
    expected = _signature(key, headers.paths, headers.methods, headers.project,
                          expires.strftime(EXPIRES_FORMAT))
    if not hmac.compare_digest(expected, headers.signature):
        return None
    resources = set()
    for path in headers.paths:
        match = _SIGNED_PATH.fullmatch(path)
        if match is not None:
            resources.add((match[1], match[2]))
    return Grant(headers.project, frozenset(headers.methods), frozenset(resources))
