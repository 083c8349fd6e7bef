"""The delivery loop: every live subscription's due messages to its sender, in order.

One scheduler thread looks at every subscription (``list_all``) each
``[notification] poll_interval``, at once when the storage announces a post
(``DataDriver.watch_posts``: watched only while there is a subscription to deliver to,
and WATCH_LINGER seconds after, since every announcement wakes every watcher), and when
a retry falls due; it hands each subscription
with nothing in progress to a pool of ``max_notifier_workers`` threads, at most
``max_deliveries_per_subscriber`` per subscriber URI. A worker then, for that one
subscription:

1. sends the confirmation notice it owes, if any (``Delivery.notice``);
2. with ``require_confirmation``, if it is not confirmed, skips what was posted (as
   upstream, which never notifies an unconfirmed subscriber);
3. sends the messages after its cursor one by one, in post order, moving the cursor
   past each once it is delivered or given up on.

A failed attempt that the retry policy (:mod:`zaqar.notification.retry`) allows to
repeat is repeated when its delay has passed, without holding a thread meanwhile; the
messages after it wait (order per subscriber). Attempts, successes and the last error
go to the subscription's delivery record. The cursor (and record) is stored after each
page of up to PAGE_SIZE messages and before each wait for a retry, so a notifier that
dies delivers at most that page again when it starts over.

Several nodes on one store each run a notifier: a worker first takes the subscription's
delivery lease in the store (``SubscriptionController.acquire_delivery_lease``, holder:
this notifier, for ``[notification] delivery_lease`` seconds), reads the subscription
again (its cursor as the last holder left it), renews the lease before each attempt once
a third of its time has passed (and the scheduler renews it while a retry waits), and
releases it once a run finds nothing due. A notifier that dies leaves its leases to expire;
another node then carries on from the stored cursor.
"""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from oslo_config import cfg

from zaqar.api import encryption
from zaqar.auth import secret_key
from zaqar.notification import base, filters, retry
from zaqar.notification.leases import DeliveryLeases, LeaseLost
from zaqar.storage import errors
from zaqar.storage.base import DataDriver, Message, Subscription, Watch

LOG = logging.getLogger(__name__)
PAGE_SIZE = 20  # messages a worker reads at once
MAX_ERROR_LENGTH = 500  # characters of an error kept in the delivery record
LIST_PAGE = 500  # subscriptions per list_all call
WATCH_LINGER = 30.0  # seconds the post watch is kept once nothing is left to deliver to


@dataclass(slots=True)
class PendingRetry:
    """A failed attempt to be made again: at ``due`` (monotonic), its ``attempts``th."""

    key: str  # the message id, or "notice"
    attempts: int
    due: float


def _now_text() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class Notifier:
    """Deliver until :meth:`stop`. ``senders`` maps a subscriber's URI scheme to its
    sender; subscriptions of other schemes are left alone.

    By default every subscription of the store is looked at, every
    ``[notification] poll_interval`` seconds, by ``max_notifier_workers`` threads (the
    notifier process). ``source`` narrows the subscriptions looked at (a websocket
    process: the ones its connections hold), ``intervals`` sets the seconds between
    looks (without, with a post watch), ``workers`` the threads.

    The notifier process takes each subscription's delivery lease before delivering to
    it (see the module's docstring). A notifier with a ``source`` takes none: its
    subscriptions are its own process's websocket connections, which no other process
    can push to, and whose cursors it keeps in memory.
    """

    def __init__(self, conf: cfg.ConfigOpts, storage: DataDriver,
                 senders: dict[str, base.Sender], *,
                 source: Callable[[], Iterable[Subscription]] | None = None,
                 intervals: tuple[float, float] | None = None, workers: int | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        group = conf.notification
        self._conf = conf
        self._storage = storage
        self._senders = senders
        self._source = source or self._all_subscriptions
        self._clock = clock
        self._require_confirmation = group.require_confirmation
        self._intervals = intervals or (group.poll_interval, group.poll_interval)
        self._per_subscriber = group.max_deliveries_per_subscriber
        self._pool = ThreadPoolExecutor(workers or group.max_notifier_workers,
                                        thread_name_prefix="zaqar-notifier")
        self._lock = threading.Lock()
        self._busy: set[str] = set()  # subscription ids a worker holds
        self._in_progress: dict[str, int] = {}  # subscriber URI -> workers on it
        self._retries: dict[str, PendingRetry] = {}  # subscription id -> its retry
        # Cursors of page senders' subscriptions (websocket push), kept here alone: such
        # a subscription ends with its connection, so a stored cursor would outlive
        # nothing, and writing one per page would cost every push a storage write.
        self._page_cursors: dict[str, str | None] = {}
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._watch: Watch | None = None
        self._can_watch = True  # until the storage says it cannot announce posts
        self._watch_lock = threading.Lock()  # the scheduler's thread and ensure_watching
        self._idle_since: float | None = None  # when the last deliverable one went
        self._cipher = encryption.cipher_for(conf)  # opens encrypted queues' bodies
        self._leases = (None if source is not None
                        else DeliveryLeases(storage, group.delivery_lease, clock,
                                            conf.data_dir))

    # -- the scheduler ------------------------------------------------------------------

    def run(self) -> None:
        """Block delivering until :meth:`stop` is called (from another thread)."""
        try:
            while not self._stopping.is_set():
                self._wake.clear()
                try:
                    self._watch_while(self._schedule())
                except self._storage.transient_errors as error:
                    LOG.warning("Notifier: storage unavailable (%s); trying again", error)
                except Exception:
                    LOG.exception("Notifier: looking for deliveries failed")
                self._wake.wait(self._next_wait())
        finally:
            if self._watch is not None:
                self._watch.close()
            self._pool.shutdown(wait=True, cancel_futures=True)
            if self._leases is not None:
                self._leases.release_all()
                self._leases.close()

    def stop(self) -> None:
        self._stopping.set()
        self._wake.set()

    def wake(self) -> None:
        """Look at the subscriptions now (one was just made)."""
        self._wake.set()

    def _next_wait(self) -> float:
        wait = self._intervals[0 if self._watch is None else 1]
        now = self._clock()
        with self._lock:
            for pending in self._retries.values():
                wait = min(wait, pending.due - now)
        return max(wait, 0.0)

    def _all_subscriptions(self) -> Iterator[Subscription]:
        marker = None
        while True:
            page = self._storage.subscriptions.list_all(marker, LIST_PAGE)
            yield from page
            if len(page) < LIST_PAGE:
                return
            marker = page[-1].id

    def _schedule(self) -> bool:
        """Hand out what is due; True when some subscription is ours to deliver to."""
        now = self._clock()
        live = set()
        for subscription in self._source():
            if self._stopping.is_set():
                break
            if urlsplit(subscription.subscriber).scheme not in self._senders:
                continue
            live.add(subscription.id)
            if self._take(subscription, now):
                self._pool.submit(self._work, subscription)
        with self._lock:  # state of subscriptions since deleted
            for gone in set(self._retries) - live - self._busy:
                del self._retries[gone]
            for gone in set(self._page_cursors) - live - self._busy:
                del self._page_cursors[gone]
            waiting = set(self._retries) - self._busy
        if self._leases is not None:
            self._keep_waiting_leases(live, waiting)
        return bool(live)

    def _keep_waiting_leases(self, live: set[str], waiting: set[str]) -> None:
        """Keep the leases of subscriptions whose retry waits; forget those gone."""
        assert self._leases is not None
        held = self._leases.held()
        self._leases.forget(s.id for s in held if s.id not in live)
        for subscription in held:
            if subscription.id in live and subscription.id in waiting:
                try:
                    self._leases.keep(subscription)
                except (LeaseLost, errors.DoesNotExist):
                    with self._lock:
                        self._retries.pop(subscription.id, None)

    def ensure_watching(self) -> None:
        """Watch posts now, when the storage announces them; returns once the watch
        listens, so that a post made after it returns is heard. For a subscription just
        made (it may wait on the storage: call it off any event loop)."""
        with self._watch_lock:
            self._idle_since = None
            if self._watch is None and self._can_watch:
                self._watch = self._storage.watch_posts(lambda _q, _p: self._wake.set())
                self._can_watch = self._watch is not None

    def _watch_while(self, needed: bool) -> None:
        """Watch posts while ``needed``, and WATCH_LINGER seconds after."""
        if needed:
            self.ensure_watching()
            return
        with self._watch_lock:
            now = self._clock()
            if self._idle_since is None:
                self._idle_since = now
            elif self._watch is not None and now - self._idle_since >= WATCH_LINGER:
                self._watch.close()
                self._watch = None

    def _take(self, subscription: Subscription, now: float) -> bool:
        """Mark ``subscription`` busy, if it is free, due and its subscriber has room."""
        with self._lock:
            pending = self._retries.get(subscription.id)
            if subscription.id in self._busy or (pending is not None and pending.due > now):
                return False
            held = self._in_progress.get(subscription.subscriber, 0)
            if held >= self._per_subscriber:
                return False
            self._in_progress[subscription.subscriber] = held + 1
            self._busy.add(subscription.id)
            return True

    def _release(self, subscription: Subscription) -> None:
        with self._lock:
            self._busy.discard(subscription.id)
            held = self._in_progress[subscription.subscriber] - 1
            if held:
                self._in_progress[subscription.subscriber] = held
            else:
                del self._in_progress[subscription.subscriber]

    # -- a worker -----------------------------------------------------------------------

    def _work(self, subscription: Subscription) -> None:
        more = False
        try:
            current = subscription
            if self._leases is not None:
                leased = self._lease(subscription)
                if leased is None:
                    return
                current = leased
            more = self._deliver(current)
        except errors.DoesNotExist:
            pass  # deleted (or its queue) while we worked: nothing more is owed
        except LeaseLost:
            LOG.warning("Notifier: another notifier took over subscription %s",
                        subscription.id)
        except self._storage.transient_errors as error:
            LOG.warning("Notifier: storage unavailable for subscription %s (%s)",
                        subscription.id, error)
        except Exception:
            LOG.exception("Notifier: delivering to subscription %s failed", subscription.id)
        finally:
            self._release(subscription)
            if more:
                self._wake.set()

    # -- the delivery lease (several notifiers on one store) -----------------------------

    def _lease(self, subscription: Subscription) -> Subscription | None:
        """The subscription as stored, once its lease is this notifier's; None when
        nothing is due to it (a lease held is then released), or another notifier holds
        it. A lease is kept from one run to the next while work comes (a burst of posts
        costs one take and one release, not a pair per page)."""
        assert self._leases is not None
        held = self._leases.holds(subscription.id)
        if not self._has_work(subscription):
            if held:
                with self._lock:
                    waiting = subscription.id in self._retries
                if not waiting:
                    self._leases.release(subscription)
            return None  # the usual case: no storage write for an idle subscription
        if held:
            self._leases.keep(subscription)  # raises LeaseLost
        elif not self._leases.take(subscription):
            with self._lock:
                self._retries.pop(subscription.id, None)
            return None
        # Read after the lease was taken: the cursor as the last holder stored it.
        return self._storage.subscriptions.get(subscription.source, subscription.project,
                                               subscription.id)

    def _has_work(self, subscription: Subscription) -> bool:
        """Whether anything may be due: a notice, or a message after the listed cursor
        (which is at most as far as the stored one: never a miss)."""
        if subscription.delivery.notice in base.NOTICES:
            return True
        return bool(self._storage.messages.list(
            subscription.source, subscription.project, "",
            marker=subscription.delivery.cursor, limit=1, echo=True, include_claimed=True,
            include_delayed=True))

    def _keep_lease(self, subscription: Subscription) -> None:
        if self._leases is not None:
            self._leases.keep(subscription)

    # -- delivering ---------------------------------------------------------------------

    def _deliver(self, subscription: Subscription) -> bool:
        """Deliver what is due; True when more may be due at once (a full page, or a
        retry without delay)."""
        scheme = urlsplit(subscription.subscriber).scheme
        sender = self._senders[scheme]
        record = dict(subscription.delivery.record)
        if (subscription.delivery.notice in base.NOTICES
                and not self._send_notice(subscription, sender, record)):
            return self._retry_is_due(subscription)
        messages, cursor = self._due(subscription, sender)
        if not messages:
            return False
        full = len(messages) == PAGE_SIZE
        if (self._require_confirmation and scheme in base.CONFIRMING_SCHEMES
                and not subscription.confirmed):
            # Upstream never notifies an unconfirmed subscriber of what is posted.
            self._record(subscription, messages[-1].id, record)
            return full
        wanted = filters.compile_policy(subscription.options.get("filter_policy"))
        if isinstance(sender, base.PageSender):
            self._deliver_page(subscription, sender, messages, wanted)
            return full
        if not self._send_each(subscription, sender, messages, cursor, wanted, record):
            return self._retry_is_due(subscription)
        return full

    def _policy(self, subscription: Subscription) -> dict[str, Any]:
        return retry.choose(subscription.options.get("_retry_policy"),
                            self._queue_policy(subscription.source, subscription.project))

    def _send_notice(self, subscription: Subscription, sender: base.Sender,
                     record: dict[str, Any]) -> bool:
        """The confirmation notice owed; True once done with (sent or given up)."""
        kind = subscription.delivery.notice or ""
        document = base.notice(subscription, kind, secret_key.load_or_create(self._conf))
        if not self._attempt(subscription, sender, "notice", document,
                             self._policy(subscription), record):
            return False
        self._storage.subscriptions.set_notice(subscription.source, subscription.project,
                                               subscription.id, None)
        return True

    def _due(self, subscription: Subscription,
             sender: base.Sender) -> tuple[list[Message], str | None]:
        """The next page of messages after the subscription's cursor, and the cursor."""
        queue, project = subscription.source, subscription.project
        cursor = subscription.delivery.cursor
        if isinstance(sender, base.PageSender):
            cursor = self._page_cursors.setdefault(subscription.id, cursor)
        messages = self._cipher.open_messages(project, self._storage.messages.list(
            queue, project, "", marker=cursor, limit=PAGE_SIZE, echo=True,
            include_claimed=True, include_delayed=True))
        if messages:
            # Looked up after the messages: one posted after the subscription ended (it
            # was deleted while this worker waited) is then never delivered. Raises
            # SubscriptionDoesNotExist.
            self._storage.subscriptions.get(queue, project, subscription.id)
        return messages, cursor

    def _send_each(self, subscription: Subscription, sender: base.Sender,
                   messages: list[Message], cursor: str | None, wanted: filters.Predicate,
                   record: dict[str, Any]) -> bool:
        """One attempt per message, in order; False when one waits for a retry (the
        cursor is then stored just before it)."""
        policy: dict[str, Any] | None = None
        for message in messages:
            if isinstance(message.body, encryption.Unreadable):
                self._unreadable(subscription, message.id, message.body, record)
            elif wanted(message.body):
                policy = policy or self._policy(subscription)
                document = base.notification(subscription.source, message)
                if not self._attempt(subscription, sender, message.id, document, policy,
                                     record):
                    self._record(subscription, cursor, record)
                    return False
            cursor = message.id
        self._record(subscription, cursor, record)
        return True

    def _deliver_page(self, subscription: Subscription, sender: base.PageSender,
                      messages: list[Message], wanted: filters.Predicate) -> None:
        """A page in one attempt, never retried (the receiver is gone, or it has it);
        the cursor is kept in memory only (see ``_page_cursors``), and no record."""
        if not messages:
            return
        chosen = [message for message in messages if wanted(message.body)
                  and not isinstance(message.body, encryption.Unreadable)]
        if chosen:
            outcome = sender.send_page(subscription, chosen)
            if not outcome.delivered:
                LOG.info("Notifier: push to %s failed: %s", subscription.subscriber,
                         outcome.error)
        with self._lock:
            self._page_cursors[subscription.id] = messages[-1].id

    @staticmethod
    def _unreadable(subscription: Subscription, message_id: str,
                    body: encryption.Unreadable, record: dict[str, Any]) -> None:
        """An encrypted message that does not open is given up, and said so."""
        error = f"Message {message_id} cannot be read: {body.reason}"
        record.update(last_error=error, last_error_at=_now_text(),
                      given_up=record.get("given_up", 0) + 1)
        LOG.warning("Notifier: %s (subscription %s)", error, subscription.id)

    def _queue_policy(self, queue: str, project: str) -> Any:
        try:
            return self._storage.queues.get_metadata(queue, project).get("_retry_policy")
        except errors.QueueDoesNotExist:
            return None

    def _retry_is_due(self, subscription: Subscription) -> bool:
        with self._lock:
            pending = self._retries.get(subscription.id)
            return pending is not None and pending.due <= self._clock()

    def _record(self, subscription: Subscription, cursor: str | None,
                record: dict[str, Any]) -> None:
        self._keep_lease(subscription)
        self._storage.subscriptions.record_delivery(subscription.source, subscription.project,
                                                    subscription.id, cursor, record)

    def _attempt(self, subscription: Subscription, sender: base.Sender, key: str,
                 document: dict[str, Any], policy: dict[str, Any],
                 record: dict[str, Any]) -> bool:
        """One attempt of ``document``; True once it is done with (delivered or given
        up), False when it is to be tried again later (then a retry is pending)."""
        with self._lock:
            pending = self._retries.pop(subscription.id, None)
        attempts = pending.attempts if pending is not None and pending.key == key else 0
        self._keep_lease(subscription)
        try:
            outcome = sender.send(subscription, document)
        except Exception as bug:  # a sender's bug: one failed attempt, not a dead loop
            LOG.exception("Notifier: the sender of %s failed", subscription.subscriber)
            outcome = base.Outcome(False, retryable=True, error=f"Internal error: {bug!r}")
        attempts += 1
        record["attempts"] = record.get("attempts", 0) + 1
        if outcome.delivered:
            record["delivered"] = record.get("delivered", 0) + 1
            record["last_success"] = _now_text()
            return True
        error = (outcome.error or "failed")[:MAX_ERROR_LENGTH]
        record["last_error"] = error
        record["last_error_at"] = _now_text()
        delays = retry.delays(policy)
        if outcome.retryable and attempts <= len(delays):
            due = self._clock() + delays[attempts - 1]
            with self._lock:
                self._retries[subscription.id] = PendingRetry(key, attempts, due)
            LOG.info("Notifier: %s to %s failed (%s); attempt %d in %.0f s", key,
                     subscription.subscriber, error, attempts + 1, delays[attempts - 1])
            return False
        record["given_up"] = record.get("given_up", 0) + 1
        LOG.warning("Notifier: gave up %s to %s of queue %r after %d attempt(s): %s", key,
                    subscription.subscriber, subscription.source, attempts, error)
        return True
