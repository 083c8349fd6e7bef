"""Pre-signed URLs: an HMAC-SHA256 grant of some methods on some paths.

``POST /v2/queues/{q}/share`` signs a grant of resources of a queue (:func:`sign`); the
confirmation notice of a subscription signs its confirm (:func:`sign_paths`). A request
then carries the grant in the ``URL-Signature``, ``URL-Expires``, ``URL-Methods``,
``URL-Paths`` and ``X-Project-ID`` headers (:class:`SignedHeaders`) and may run, without
a token, exactly the actions whose REST method and signed path (an action's ``signed``,
zaqar.api.registry) the grant names, until it expires (:func:`verify`,
:meth:`Grant.allows`). The signed text is upstream Zaqar's, so a URL signed by either
service verifies on both when they share the key.
"""
import hashlib
import hmac
import re
import string
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

# The resources of a queue a shared URL may grant, and the methods.
RESOURCES = ("messages", "subscriptions", "claims")
METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")
EXPIRES_FORMAT = "%Y-%m-%dT%H:%M:%S"  # UTC, whole seconds
# The paths a signature may grant (what actions name as ``signed``), their fields filled
# from the request: a queue's resources (shared URLs, and the confirmation notice of a
# queue's subscription), and the confirm of one subscription of a topic (its notice).
TOPIC_CONFIRM_PATH = "/v2/topics/{topic_name}/subscriptions/{subscription_id}/confirm"
SIGNABLE_PATHS = (*(f"/v2/queues/{{queue_name}}/{resource}" for resource in RESOURCES),
                  TOPIC_CONFIRM_PATH)
# What a field of a signed path may hold: a queue's or topic's name, an id (a name in a
# path may not hold a "/", which would let it name another path).
_FIELD_VALUE = re.compile(r"[a-zA-Z0-9_-]{1,64}")


def queue_path(queue: str, resource: str) -> str:
    return f"/v2/queues/{queue}/{resource}"


def topic_confirm_path(topic: str, subscription_id: str) -> str:
    return TOPIC_CONFIRM_PATH.format(topic_name=topic, subscription_id=subscription_id)


def signed_path(template: str, params: Mapping[str, object]) -> str | None:
    """``template`` (one of SIGNABLE_PATHS) with its fields filled from ``params``; None
    when a field is missing or is not a plain name (letters, digits, ``_``, ``-``)."""
    values = {}
    for _, field, _, _ in string.Formatter().parse(template):
        if field is None:
            continue
        value = params.get(field)
        if not isinstance(value, str) or not _FIELD_VALUE.fullmatch(value):
            return None
        values[field] = value
    return template.format_map(values)


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
    """The share document of ``resources`` of ``queue``: ``{signature, expires, paths,
    methods, project}``.

    Inputs are trusted (the api layer validated them); ``expires`` is naive UTC.
    """
    return sign_paths(key, {queue_path(queue, resource) for resource in resources}, methods,
                      project, expires)


def sign_paths(key: str, paths: Iterable[str], methods: Iterable[str], project: str,
               expires: datetime) -> dict[str, object]:
    """The grant of ``methods`` on ``paths`` (as :func:`sign`, for any paths)."""
    signed_paths, signed_methods = sorted(set(paths)), sorted(set(methods))
    expires_text = expires.strftime(EXPIRES_FORMAT)
    return {"signature": _signature(key, signed_paths, signed_methods, project, expires_text),
            "expires": expires_text, "paths": signed_paths, "methods": signed_methods,
            "project": project}


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
    """What a valid signature allows: these methods on these paths."""

    project: str
    methods: frozenset[str]
    paths: frozenset[str]

    def allows(self, access: tuple[str, str] | None, params: Mapping[str, object]) -> bool:
        """Whether the grant covers ``access`` (REST method, one of SIGNABLE_PATHS; an
        action's, see zaqar.api.registry) with the fields of a request's ``params``;
        None is never granted."""
        if access is None:
            return False
        method, template = access
        path = signed_path(template, params)
        return path is not None and method in self.methods and path in self.paths


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
    return Grant(headers.project, frozenset(headers.methods), frozenset(headers.paths))
