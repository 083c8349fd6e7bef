"""Validation, limits and defaults for every action, in one place.

Values come either typed (a websocket frame, a JSON body) or as text (a REST query
string). Query-style parameters (``limit``, ``marker``, flags, id lists) accept both;
document fields (``ttl``, ``grace``, ``delay``, ``metadata``...) must have their JSON type.
"""
import hashlib
import json
import math
import re
import uuid
from typing import Any, TypeGuard
from urllib.parse import urlsplit

from oslo_config import cfg

from zaqar.api.errors import BadRequest
from zaqar.notification import filters
from zaqar.storage.base import NewMessage

QUEUE_NAME = re.compile(r"[a-zA-Z0-9_-]{1,64}")
MAX_PROJECT_ID = 256
MAX_ID = 64
MIN_MESSAGE_TTL = 60
MIN_CLAIM_TTL = 60
MIN_CLAIM_GRACE = 60
MIN_SUBSCRIPTION_TTL = 60
MAX_CLAIM_COUNT = 2 ** 31 - 1
# Arrays and objects a request may nest, counting its own top level. Far deeper
# documents parse, but could not be encoded or decoded again within Python's recursion
# limit: a message stored that deep would break every read of its queue.
MAX_DOCUMENT_DEPTH = 100
# Longest long poll (``wait``) in seconds, as SQS's ReceiveMessage WaitTimeSeconds.
MAX_WAIT = 20
_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off"}


def _is_int(value: Any) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_text(text: str) -> None:
    """Raises BadRequest for a string that is not Unicode text (a lone surrogate)."""
    try:
        text.encode()
    except UnicodeEncodeError:
        raise BadRequest("Strings must be Unicode text; this one holds a lone "
                         "surrogate.") from None


class Validator:
    """Checks built once from ``[transport]``; each method raises BadRequest naming the field."""

    def __init__(self, conf: cfg.ConfigOpts) -> None:
        self.limits = conf.transport
        self.enable_checksum = conf.enable_checksum

    # -- identities ---------------------------------------------------------------------

    def queue_name(self, value: Any, field: str = "queue_name") -> str:
        if not isinstance(value, str) or not value:
            raise BadRequest(f"Missing or invalid {field}: a queue name is required.")
        if not QUEUE_NAME.fullmatch(value):  # match() with $ would let "q\n" through
            if len(value) > 64:
                raise BadRequest("Queue names may not be more than 64 characters long.")
            raise BadRequest("Queue names may only contain ASCII letters, digits, "
                             "underscores, and dashes.")
        return value

    @staticmethod
    def resource_name(value: Any, field: str) -> str:
        """A pool or flavor name (``field`` names it): as a queue name, 1 to 64 ASCII
        letters, digits, underscores and dashes."""
        if not isinstance(value, str) or not QUEUE_NAME.fullmatch(value):
            raise BadRequest(f"Missing or invalid {field}: 1 to 64 ASCII letters, digits, "
                             "underscores and dashes are required.")
        return value

    @staticmethod
    def project_id(value: str | None) -> str:
        if value is None:
            raise BadRequest("The header X-PROJECT-ID was missing.", "Project-Id Missing")
        if not value or len(value) > MAX_PROJECT_ID or not value.isprintable():
            raise BadRequest(f"X-PROJECT-ID must be 1 to {MAX_PROJECT_ID} printable "
                             "characters.")
        return value

    def client_id(self, value: str | None) -> str:
        if not value:
            raise BadRequest("The header Client-ID was missing.", "Missing header")
        if self.limits.client_id_uuid_safe == "strict":
            try:
                uuid.UUID(value)
            except ValueError:
                raise BadRequest("Malformed hexadecimal UUID.", "Malformed Client-ID") from None
        elif not (self.limits.min_length_client_id <= len(value)
                  <= self.limits.max_length_client_id):
            raise BadRequest(f"Client-ID must be {self.limits.min_length_client_id} to "
                             f"{self.limits.max_length_client_id} characters.",
                             "Malformed Client-ID")
        return value

    @staticmethod
    def resource_id(params: dict[str, Any], key: str) -> str:
        value = params.get(key)
        if not isinstance(value, str) or not value or len(value) > MAX_ID:
            raise BadRequest(f"Missing or invalid {key}: an id of 1 to {MAX_ID} characters "
                             "is required.")
        return value

    @staticmethod
    def named_id(params: dict[str, Any], key: str) -> str:
        """A message or claim id as the caller named it: any non-empty string. These ids
        are opaque to the caller, so one we could never have issued (too long, another
        service's format) names nothing: storage answers not found, never a 400."""
        value = params.get(key)
        if not isinstance(value, str) or not value:
            raise BadRequest(f"Missing or invalid {key}: an id is required.")
        return value

    @staticmethod
    def json_document(document: Any) -> None:
        """Refuse what JSON cannot carry, whichever encoding brought it: arrays and objects
        nested deeper than MAX_DOCUMENT_DEPTH, object keys other than strings, values
        other than JSON's (MsgPack's binary and extension types), NaN or Infinity, and
        strings that are not Unicode text (lone surrogates). Stored, any of them would
        break reads of its queue in one encoding or another.

        Checked level by level, without recursion, in one loop on exact types: it runs
        on every request, and decoders build exact dicts, lists and scalars."""
        depth, level = 0, [document]
        while True:
            nested: list[Any] = []
            has_containers = False
            for node in level:
                kind = type(node)
                if kind is str:
                    if not node.isascii():
                        _check_text(node)
                elif kind is dict:
                    has_containers = True
                    for key in node:
                        if type(key) is not str:
                            raise BadRequest("Object keys must be strings, as in JSON.")
                        if not key.isascii():
                            _check_text(key)
                    nested.extend(node.values())
                elif kind is list:
                    has_containers = True
                    nested.extend(node)
                elif kind is float:
                    if not math.isfinite(node):
                        raise BadRequest("NaN and Infinity are not JSON numbers.")
                elif not (kind is int or kind is bool or node is None):
                    raise BadRequest(f"A value of type {kind.__name__} has no JSON form; "
                                     "send strings, numbers, booleans, null, arrays and "
                                     "objects.")
            if not has_containers:
                return
            depth += 1
            if depth > MAX_DOCUMENT_DEPTH:
                raise BadRequest(f"The request nests arrays and objects more than "
                                 f"{MAX_DOCUMENT_DEPTH} levels deep.")
            level = nested

    # -- generic parameters -------------------------------------------------------------

    @staticmethod
    def query_int(params: dict[str, Any], key: str, default: int, minimum: int,
                  maximum: int) -> int:
        """An integer that may arrive as text (query strings)."""
        value = params.get(key)
        if value is None:
            return default
        # isascii: str.isdigit() also holds for digits int() refuses, such as "²".
        if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) < 10:
            value = int(value)
        if not _is_int(value) or not minimum <= value <= maximum:
            raise BadRequest(f"The value of {key} must be an integer from {minimum} "
                             f"to {maximum}.")
        return value

    @classmethod
    def wait(cls, params: dict[str, Any]) -> int:
        """``wait``: seconds a claim or a listing may wait for messages when there are
        none yet (long polling; zaqar.api.long_poll), 0 to MAX_WAIT; 0 by default."""
        return cls.query_int(params, "wait", 0, 0, MAX_WAIT)

    @staticmethod
    def document_int(params: dict[str, Any], key: str, default: int, minimum: int,
                     maximum: int) -> int:
        """An integer field of a JSON document: text is refused."""
        value = params.get(key, default)
        if not _is_int(value) or not minimum <= value <= maximum:
            raise BadRequest(f"The value of {key} must be an integer from {minimum} "
                             f"to {maximum}.")
        return value

    @staticmethod
    def flag(params: dict[str, Any], key: str, default: bool = False) -> bool:
        value = params.get(key)
        if value is None:
            return default
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in _TRUE | _FALSE:
            return value.lower() in _TRUE
        raise BadRequest(f"The value of {key} must be true or false.")

    @staticmethod
    def marker(params: dict[str, Any], key: str = "marker") -> str | None:
        value = params.get(key)
        if value is None or value == "":
            return None
        if not isinstance(value, str) or len(value) > 256:
            raise BadRequest(f"The value of {key} must be a string of at most 256 "
                             "characters.")
        return value

    def id_list(self, params: dict[str, Any], key: str) -> list[str] | None:
        """A list of ids, or a comma-separated string of them; None when absent. Each id
        is any non-empty string, as in :meth:`named_id`."""
        value = params.get(key)
        if value is None:
            return None
        if isinstance(value, str):
            value = [item for item in value.split(",") if item]
        if (not isinstance(value, list) or not value
                or not all(isinstance(item, str) and item for item in value)):
            raise BadRequest(f"{key} must be a non-empty list of ids.")
        most = self.limits.max_messages_per_page
        if len(value) > most:
            raise BadRequest(f"No more than {most} ids may be given at once in {key}.")
        return value

    # -- documents ----------------------------------------------------------------------

    def body_size(self, size: int | None, maximum: int, what: str) -> None:
        if size is not None and size > maximum:
            raise BadRequest(f"{what} is too large: {size} bytes; the most is {maximum} bytes.")

    def metadata(self, value: Any, size: int | None = None,
                 queue: str | None = None) -> dict[str, Any]:
        """Queue metadata checked; ``queue`` names the queue it is for (a queue is not
        its own dead-letter queue)."""
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise BadRequest("Queue metadata must be a JSON object.")
        if size is None:
            size = len(json.dumps(value))
        self.body_size(size, self.limits.max_queue_metadata, "Queue metadata")
        self._reserved_metadata(value)
        self._dead_letter_metadata(value, queue)
        return value

    def _reserved_metadata(self, meta: dict[str, Any]) -> None:
        lim = self.limits
        ranges = {
            "_default_message_ttl": (MIN_MESSAGE_TTL, lim.max_message_ttl),
            "_default_message_delay": (0, lim.max_message_delay),
            "_max_messages_post_size": (1, lim.max_messages_post_size),
        }
        for key, (low, high) in ranges.items():
            if key in meta:
                self.document_int(meta, key, 0, low, high)
        encrypt = meta.get("_enable_encrypt_messages")
        if encrypt is not None and not isinstance(encrypt, bool):
            raise BadRequest("The value of _enable_encrypt_messages must be true or false.")
        retry_policy(meta)

    def _dead_letter_metadata(self, meta: dict[str, Any], queue: str | None) -> None:
        """``_dead_letter_queue`` (a queue name other than the queue's own),
        ``_max_claim_count`` (an integer from 0) and ``_dead_letter_queue_messages_ttl``
        (a message TTL); null for each is unset. Upstream checks only the integers'
        types and the TTL's range."""
        target = meta.get("_dead_letter_queue")
        if target is not None:
            self.queue_name(target, "_dead_letter_queue")
            if target == queue:
                raise BadRequest(f"_dead_letter_queue may not be the queue itself ({queue!r}).")
        if meta.get("_max_claim_count") is not None:
            self.document_int(meta, "_max_claim_count", 0, 0, MAX_CLAIM_COUNT)
        if meta.get("_dead_letter_queue_messages_ttl") is not None:
            self.document_int(meta, "_dead_letter_queue_messages_ttl", 0, MIN_MESSAGE_TTL,
                              self.limits.max_message_ttl)

    def messages(self, value: Any, queue_meta: dict[str, Any],
                 size: int | None) -> list[NewMessage]:
        if not isinstance(value, list) or not value:
            raise BadRequest("Missing or invalid messages: a non-empty list of messages "
                             "is required.")
        limit = min(queue_meta.get("_max_messages_post_size", self.limits.max_messages_post_size),
                    self.limits.max_messages_post_size)
        if size is None:
            size = len(json.dumps(value))
        self.body_size(size, limit, "Message collection")
        default_ttl = queue_meta.get("_default_message_ttl", self.limits.default_message_ttl)
        default_delay = queue_meta.get("_default_message_delay",
                                       self.limits.default_message_delay)
        return [self._message(item, default_ttl, default_delay) for item in value]

    def _message(self, item: Any, default_ttl: int, default_delay: int) -> NewMessage:
        if not isinstance(item, dict) or "body" not in item:
            raise BadRequest("Each message must be a JSON object with a body.")
        ttl = self.document_int(item, "ttl", default_ttl, MIN_MESSAGE_TTL,
                                self.limits.max_message_ttl)
        delay = self.document_int(item, "delay", default_delay, 0,
                                  self.limits.max_message_delay)
        checksum = None
        if self.enable_checksum:
            # Upstream's digest (storage.utils.get_checksum): the body's JSON as
            # json.dumps writes it, keys in the order posted, which reads give back.
            encoded = json.dumps(item["body"]).encode()
            checksum = "MD5:" + hashlib.md5(encoded, usedforsecurity=False).hexdigest()
        return NewMessage(body=item["body"], ttl=ttl, delay=delay, checksum=checksum)

    def subscriber(self, value: Any) -> str:
        """A subscriber URI of a type ``subscriber_types`` allows, and that the notifier
        delivers to. Raises BadRequest."""
        # isprintable: no control characters, and no lone surrogates, which no database
        # can store as text.
        if (not isinstance(value, str) or not value or len(value) > 2048
                or not value.isprintable()):
            raise BadRequest("Missing or invalid subscriber: a URI is required.")
        scheme = urlsplit(value).scheme
        if scheme not in self.limits.subscriber_types:
            allowed = ", ".join(self.limits.subscriber_types)
            raise BadRequest(f"The subscriber type of {value!r} is not supported; use one "
                             f"of: {allowed}.")
        _check_destination(value, scheme)
        if scheme not in _DELIVERED_SCHEMES:
            # A scheme subscriber_types allows that nothing delivers to: refused rather
            # than stored and never notified.
            raise BadRequest(f"Not delivered yet: Notification of {scheme} subscribers. "
                             f"The subscriber {value!r} would never be notified.")
        return value

    def subscription_options(self, value: Any) -> dict[str, Any]:
        """Upstream's checks (``_retry_policy``), and the types of the options the
        notifier reads: ``post_data`` (a string), ``post_headers`` (an object of
        strings), ``filter_policy`` (ours: zaqar.notification.filters)."""
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise BadRequest("Subscription options must be a JSON object.")
        retry_policy(value)
        if "post_data" in value and not isinstance(value["post_data"], str):
            raise BadRequest("The option post_data must be a string (a JSON template "
                             'holding "$zaqar_message$").')
        headers = value.get("post_headers")
        if "post_headers" in value and not (isinstance(headers, dict) and all(
                isinstance(item, str) for item in headers.values())):
            raise BadRequest("The option post_headers must be an object of strings.")
        try:
            filters.compile_policy(value.get("filter_policy"))
        except filters.FilterPolicyError as error:
            raise BadRequest(str(error)) from None
        return value


# -- reserved keys of queue metadata and subscription options ---------------------------

# Subscriber schemes the notifier delivers to (zaqar.notification).
_DELIVERED_SCHEMES = ("http", "https", "mailto", "trust+http", "trust+https")

def _check_destination(subscriber: str, scheme: str) -> None:
    """Raises BadRequest for a subscriber URI that names nowhere to deliver to (stricter
    than upstream, which stores such subscribers and never reaches them)."""
    if scheme == "mailto":
        if "@" not in urlsplit(subscriber).path:
            raise BadRequest(f"The subscriber {subscriber!r} names no e-mail address.")
        return
    try:
        parts = urlsplit(subscriber)
        has_host = bool(parts.hostname) and " " not in parts.netloc
        parts.port  # noqa: B018 (raises ValueError for a malformed port)
    except ValueError:
        has_host = False
    if not has_host:
        raise BadRequest(f"The subscriber {subscriber!r} names no valid host.")


# Upstream's retry policy of webhook notifications: its integer keys and its defaults.
RETRY_POLICY_INTEGERS = ("retries_with_no_delay", "minimum_delay_retries", "minimum_delay",
                         "maximum_delay", "maximum_delay_retries")
RETRY_BACKOFF_FUNCTIONS = ("linear", "arithmetic", "exponential", "geometric")
DEFAULT_MINIMUM_DELAY = 5
DEFAULT_MAXIMUM_DELAY = 30
MIN_DELAY_SPREAD = 10  # maximum_delay - minimum_delay, at least (upstream's)


def retry_policy(container: dict[str, Any]) -> None:
    """Check the ``_retry_policy`` of queue metadata or subscription options, as upstream:
    an object whose known keys have their types, and whose ``maximum_delay`` exceeds
    ``minimum_delay`` by at least MIN_DELAY_SPREAD seconds. A null key is its default;
    unknown keys pass. Upstream lets any false-like policy (null, 0, "", []) through.

    Raises BadRequest.
    """
    policy = container.get("_retry_policy")
    if not policy:
        return
    if not isinstance(policy, dict):
        raise BadRequest("_retry_policy must be a JSON object.")
    for key in RETRY_POLICY_INTEGERS:
        if policy.get(key) is not None and not _is_int(policy[key]):
            raise BadRequest(f"_retry_policy {key} must be an integer.")
    backoff = policy.get("retry_backoff_function")
    if backoff is not None and backoff not in RETRY_BACKOFF_FUNCTIONS:
        raise BadRequest("_retry_policy retry_backoff_function must be one of: "
                         f"{', '.join(RETRY_BACKOFF_FUNCTIONS)}.")
    override = policy.get("ignore_subscription_override")
    if override is not None and not isinstance(override, bool):
        raise BadRequest("_retry_policy ignore_subscription_override must be true or false.")
    minimum = policy.get("minimum_delay")
    maximum = policy.get("maximum_delay")
    minimum = DEFAULT_MINIMUM_DELAY if minimum is None else minimum
    maximum = DEFAULT_MAXIMUM_DELAY if maximum is None else maximum
    if maximum < minimum:
        raise BadRequest(f"_retry_policy minimum_delay ({minimum}) must be less than "
                         f"maximum_delay ({maximum}).")
    if maximum - minimum < MIN_DELAY_SPREAD:
        raise BadRequest(f"_retry_policy maximum_delay ({maximum}) must exceed "
                         f"minimum_delay ({minimum}) by at least {MIN_DELAY_SPREAD} "
                         "seconds.")
