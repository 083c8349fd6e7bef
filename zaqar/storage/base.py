"""The storage contract: what every driver provides, and what it guarantees.

Drivers know nothing of HTTP or websockets. Times are POSIX seconds (float) taken from
the driver's ``clock``, so that expiry is judged in one place. Ids are opaque strings.
Every method raises only the errors of :mod:`zaqar.storage.errors` on purpose.
"""
from __future__ import annotations

import abc
import builtins
import json
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from oslo_config import cfg

from zaqar.storage import errors


@dataclass(frozen=True, slots=True)
class NewMessage:
    """A message as posted: already validated and defaulted by the api layer."""

    body: Any
    ttl: int
    delay: int = 0
    checksum: str | None = None


@dataclass(frozen=True, slots=True)
class SealedBody:
    """A body the api layer encrypted (zaqar.api.encryption): stored as this text and
    returned as it was stored, whichever queue it is in (a dead-letter move keeps it).

    ``text`` starts with :data:`SEALED_PREFIX`, which no JSON text starts with, so the
    stored form tells a sealed body from a posted one.
    """

    text: str


SEALED_PREFIX = "~"


def body_text(body: Any) -> str:
    """A body as stored: its JSON text, or a sealed body's own text."""
    return body.text if isinstance(body, SealedBody) else json.dumps(body)


def body_value(stored: str | bytes) -> Any:
    """A stored body read back (see :func:`body_text`)."""
    if isinstance(stored, bytes):
        stored = stored.decode()
    return SealedBody(stored) if stored.startswith(SEALED_PREFIX) else json.loads(stored)


# Topics (zaqar.api.topics) are stored as queues of a project of their own: the
# project's id behind this prefix. Client project ids are printable, so no client
# project starts with it. Stored project ids are up to MAX_STORED_PROJECT characters.
TOPIC_PROJECT_PREFIX = "\x1ftopics\x1f"
MAX_PROJECT = 256
MAX_STORED_PROJECT = MAX_PROJECT + len(TOPIC_PROJECT_PREFIX)


def topic_project(project: str) -> str:
    """The project a project's topics are stored in."""
    return TOPIC_PROJECT_PREFIX + project


def owner_project(stored: str) -> tuple[str, bool]:
    """(the client's project, whether it holds topics) of a stored project id: what the
    notifier shows subscribers of a topic."""
    if stored.startswith(TOPIC_PROJECT_PREFIX):
        return stored[len(TOPIC_PROJECT_PREFIX):], True
    return stored, False


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """Where a claim sends the messages of a queue claimed too often (upstream's queue
    metadata ``_max_claim_count``, ``_dead_letter_queue``,
    ``_dead_letter_queue_messages_ttl``).

    A message already claimed ``max_claims`` times is not claimed again: the claim that
    would take it moves it to ``queue`` (same project; created if needed) instead, with
    a new id of that queue, free, its claim count kept, living ``ttl`` seconds from the
    move (its own TTL when None).
    """

    queue: str
    max_claims: int
    ttl: int | None = None


@dataclass(slots=True)
class Message:
    id: str
    body: Any
    ttl: int
    created: float
    claim_id: str | None = None
    claim_count: int = 0
    checksum: str | None = None


@dataclass(slots=True)
class Claim:
    id: str
    ttl: int
    grace: int
    created: float
    messages: list[Message] = field(default_factory=list)


@dataclass(slots=True)
class Delivery:
    """What the notifier keeps of a subscription (zaqar.notification).

    ``cursor`` is the id of the last message of the queue handled (delivered, or given
    up on): the messages after it are due. A new subscription starts at the queue's
    newest message, so only messages posted from then on are delivered. ``notice`` names
    a confirmation notice owed to the subscriber (``"confirm"``, ``"unsubscribe"``), or
    None. ``record`` is the delivery record clients read (last success, last error,
    attempts): a JSON object the storage keeps as it is given.
    """

    cursor: str | None = None
    notice: str | None = None
    record: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class Subscription:
    id: str
    source: str
    subscriber: str
    ttl: int
    created: float
    options: dict[str, Any]
    confirmed: bool
    project: str = ""
    delivery: Delivery = field(default_factory=Delivery)


@dataclass(slots=True)
class QueueStats:
    free: int  # live and not held by a claim (delayed messages included)
    claimed: int
    oldest: Message | None = None
    newest: Message | None = None

    @property
    def total(self) -> int:
        return self.free + self.claimed


@dataclass(frozen=True, slots=True)
class QueueEntry:
    name: str
    metadata: dict[str, Any] | None


class QueueController(abc.ABC):
    @abc.abstractmethod
    def create(self, name: str, project: str, metadata: dict[str, Any] | None = None) -> bool:
        """Create a queue; True if created, False if it existed (left untouched)."""

    @abc.abstractmethod
    def exists(self, name: str, project: str) -> bool: ...

    @abc.abstractmethod
    def get_metadata(self, name: str, project: str) -> dict[str, Any]:
        """Raises QueueDoesNotExist."""

    @abc.abstractmethod
    def set_metadata(self, name: str, project: str, metadata: dict[str, Any]) -> None:
        """Replace the metadata whole. Raises QueueDoesNotExist."""

    @abc.abstractmethod
    def delete(self, name: str, project: str) -> None:
        """Delete a queue with its messages and claims; a missing queue is no error."""

    @abc.abstractmethod
    def list(self, project: str, marker: str | None = None, limit: int = 10,
             detailed: bool = False) -> list[QueueEntry]:
        """Queues of a project ordered by name, those after ``marker`` first."""

    @abc.abstractmethod
    def count(self, project: str) -> int: ...

    @abc.abstractmethod
    def stats(self, name: str, project: str) -> QueueStats:
        """Counts of live messages; a missing queue has all zeros."""


class MessageController(abc.ABC):
    @abc.abstractmethod
    def post(self, queue: str, project: str, messages: Sequence[NewMessage],
             client_id: str) -> list[str]:
        """Store a batch atomically, creating the queue if needed; ids in post order.

        Messages of one queue are listed and claimed in post order (FIFO). Ids are the
        queue's own: they tell nothing of posts to other queues, and a queue never hands
        one out twice, not even once deleted and made again (clients hold ids as markers).
        """

    @abc.abstractmethod
    def list(self, queue: str, project: str, client_id: str, marker: str | None = None,
             limit: int = 10, echo: bool = False, include_claimed: bool = False,
             include_delayed: bool = False) -> list[Message]:
        """Live messages after ``marker`` in post order; a missing queue lists nothing."""

    def get(self, queue: str, project: str, message_id: str) -> Message:
        """One live message. Raises MessageDoesNotExist (also for a missing queue or a
        malformed id)."""
        found = self.bulk_get(queue, project, [message_id])
        if not found:
            raise errors.MessageDoesNotExist(message_id, queue)
        return found[0]

    # builtins.list: inside this class body, ``list`` names the method above.
    @abc.abstractmethod
    def bulk_get(self, queue: str, project: str,
                 message_ids: Iterable[str]) -> builtins.list[Message]:
        """The live messages among ``message_ids``; unknown ids are left out."""

    @abc.abstractmethod
    def delete(self, queue: str, project: str, message_id: str,
               claim_id: str | None = None) -> None:
        """Delete one message; a missing one is no error.

        Raises MessageIsClaimed when no claim is given but a live claim holds it,
        MessageNotClaimed when a claim is given but none holds it, MessageNotClaimedBy
        when another claim holds it.
        """

    @abc.abstractmethod
    def bulk_delete(self, queue: str, project: str, message_ids: Iterable[str],
                    claim_ids: Sequence[str] | None = None) -> None:
        """Delete many at once. With ``claim_ids``, every live message named must be held
        by one of them, or nothing is deleted and MessageNotClaimedBy/MessageNotClaimed is
        raised. Without, claimed messages are deleted too (upstream's bulk semantics)."""

    @abc.abstractmethod
    def pop(self, queue: str, project: str, limit: int) -> builtins.list[Message]:
        """Atomically remove and return up to ``limit`` free messages, oldest first."""


class ClaimController(abc.ABC):
    @abc.abstractmethod
    def create(self, queue: str, project: str, ttl: int, grace: int, limit: int,
               dead_letter: DeadLetter | None = None) -> Claim | None:
        """Claim up to ``limit`` free messages, oldest first; None when none is free.

        Atomic across processes: a message held by a live claim is never claimed again.
        Claimed messages live at least ``ttl + grace`` seconds from now. With
        ``dead_letter``, free messages claimed ``max_claims`` times already are moved to
        its queue in the same atomic step (never in both queues, never in neither) and
        the claim goes on with the next free ones; moved messages do not count against
        ``limit``.
        """

    @abc.abstractmethod
    def get(self, queue: str, project: str, claim_id: str) -> Claim:
        """The live claim with the messages it still holds. Raises ClaimDoesNotExist."""

    @abc.abstractmethod
    def update(self, queue: str, project: str, claim_id: str, ttl: int, grace: int) -> None:
        """Renew a live claim from now. Raises ClaimDoesNotExist."""

    @abc.abstractmethod
    def delete(self, queue: str, project: str, claim_id: str) -> None:
        """Release a claim, freeing its messages; a missing claim is no error."""


class SubscriptionController(abc.ABC):
    @abc.abstractmethod
    def create(self, queue: str, project: str, subscriber: str, ttl: int,
               options: dict[str, Any], notice: str | None = None) -> str:
        """Returns the new id. Raises SubscriptionAlreadyExists for the same subscriber.

        Atomically with the creation, the subscription's delivery cursor is set to the
        queue's newest message id (None when the queue never had one), and its
        ``notice`` (see :class:`Delivery`) to ``notice``.
        """

    @abc.abstractmethod
    def find(self, queue: str, project: str, subscriber: str) -> Subscription | None:
        """The live subscription of a queue to ``subscriber``, if any."""

    @abc.abstractmethod
    def list_all(self, marker: str | None = None,
                 limit: int = 100) -> builtins.list[Subscription]:
        """Live subscriptions of every queue of every project, ordered by id, those
        after ``marker``: what the notifier delivers to. Each names its ``project``."""

    @abc.abstractmethod
    def record_delivery(self, queue: str, project: str, subscription_id: str,
                        cursor: str | None, record: dict[str, Any]) -> None:
        """Set the delivery cursor and record (see :class:`Delivery`); the notice is
        left as it is. Raises SubscriptionDoesNotExist."""

    @abc.abstractmethod
    def set_notice(self, queue: str, project: str, subscription_id: str,
                   notice: str | None) -> None:
        """Owe the subscriber a confirmation notice, or (None) nothing any more; the
        cursor and record are left as they are. Raises SubscriptionDoesNotExist."""

    @abc.abstractmethod
    def list(self, queue: str, project: str, marker: str | None = None,
             limit: int = 10) -> list[Subscription]:
        """Live subscriptions of a queue ordered by id, those after ``marker``."""

    @abc.abstractmethod
    def get(self, queue: str, project: str, subscription_id: str) -> Subscription:
        """Raises SubscriptionDoesNotExist."""

    @abc.abstractmethod
    def update(self, queue: str, project: str, subscription_id: str,
               fields: dict[str, Any]) -> None:
        """Change subscriber, ttl (renewed from now) and/or options.

        Raises SubscriptionDoesNotExist, SubscriptionAlreadyExists.
        """

    @abc.abstractmethod
    def confirm(self, queue: str, project: str, subscription_id: str, confirmed: bool) -> None:
        """Raises SubscriptionDoesNotExist."""

    @abc.abstractmethod
    def delete(self, queue: str, project: str, subscription_id: str) -> None:
        """A missing subscription is no error."""

    @abc.abstractmethod
    def purge(self, queue: str, project: str) -> None:
        """Delete every subscription of a queue."""

    @abc.abstractmethod
    def acquire_delivery_lease(self, queue: str, project: str, subscription_id: str,
                               holder: str, seconds: float) -> bool:
        """Hold the subscription's delivery lease for ``holder`` until ``seconds`` from
        now (the driver's clock), so that of several notifiers on one store only one
        delivers to it at a time.

        Taken when nobody holds it or its holder's time is up; renewed (a new end,
        ``seconds`` from now) when ``holder`` holds it already. Returns True when
        ``holder`` holds it on return, False when another holder does. Atomic: of
        holders racing for a free lease exactly one gets it. Raises
        SubscriptionDoesNotExist for a missing or expired subscription.
        """

    @abc.abstractmethod
    def release_delivery_lease(self, queue: str, project: str, subscription_id: str,
                               holder: str) -> None:
        """Give the delivery lease up, if ``holder`` holds it (its time up or not): it is
        then free at once. Nothing happens when another holder or nobody holds it, or
        the subscription is gone."""


class Watch(abc.ABC):
    """A running watch of an engine's post announcements (:meth:`DataDriver.watch_posts`)."""

    @abc.abstractmethod
    def close(self) -> None:
        """Stop watching; safe to call twice. No call of ``on_post`` starts once it
        returns (one under way is waited for); the watch's connection is released soon
        after, in the watch's own thread."""


class DataDriver(abc.ABC):
    """One storage engine: its controllers and its housekeeping.

    ``clock`` is the only source of "now" for expiry decisions; tests replace it to
    travel in time.
    """

    clock: Callable[[], float] = staticmethod(time.time)
    # Engine errors that mean "unavailable right now" (lost connection, lock timeout):
    # the api layer answers 503 for them instead of failing the request as a bug.
    transient_errors: tuple[type[Exception], ...] = ()

    queues: QueueController
    messages: MessageController
    claims: ClaimController
    subscriptions: SubscriptionController

    @abc.abstractmethod
    def __init__(self, conf: cfg.ConfigOpts) -> None: ...

    @abc.abstractmethod
    def prepare(self) -> None:
        """Bring the engine's schema up to date; safe to call again."""

    @abc.abstractmethod
    def is_alive(self) -> bool: ...

    @abc.abstractmethod
    def purge_messages(self, queue: str, project: str) -> None:
        """Delete every message and claim of a queue, keeping the queue."""

    @abc.abstractmethod
    def collect_garbage(self) -> int:
        """Remove expired messages, claims and subscriptions; returns rows removed."""

    def watch_posts(self, on_post: Callable[[str, str], None]) -> Watch | None:
        """Call ``on_post(queue, project)`` soon after messages are posted to a queue, by
        any process or node using the same store; None when the engine cannot announce
        posts (then callers poll).

        An announcement is a hint that something was posted there, not the messages: it
        comes after the post is stored, from a thread of the watch's own, at most once,
        and may be lost (while the watch reconnects, for one). Callers that must see every
        message still look for them now and then. ``on_post`` should return quickly; an
        exception it raises is logged and the watch goes on. ``watch_posts`` returns once
        the watch listens (a post made after that is announced), so it may wait on the
        engine: call it off any event loop.
        """
        return None

    @abc.abstractmethod
    def close(self) -> None: ...
