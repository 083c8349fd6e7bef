"""The delivery leases one notifier holds, so that of several notifiers on one store
(several nodes) one delivers to a subscription at a time.

A lease is taken in the store (``SubscriptionController.acquire_delivery_lease``) for
``[notification] delivery_lease`` seconds, renewed once a third of that has passed, and
released when nothing more is due; a notifier that dies leaves its leases to expire,
unless the next notifier started on its ``data_dir`` takes its name back (:func:`holder_name`).
"""
import fcntl
import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import IO

from zaqar.storage.base import DataDriver, Subscription

LOG = logging.getLogger(__name__)


class LeaseLost(Exception):
    """Another notifier holds the subscription's delivery lease now (this one stalled
    past its end): this one stops delivering to it, and stores nothing of it."""


HOLDER_FILE = "notifier-holder"


def _new_name() -> str:
    return f"{socket.gethostname()[:64]}:{os.getpid()}:{uuid.uuid4().hex[:12]}"


def holder_name(data_dir: str | None) -> tuple[str, IO[str] | None]:
    """This notifier's name in the store, and the open file that keeps it its own.

    The name is the one in ``data_dir``'s HOLDER_FILE when no live process holds that
    file's lock: a notifier started again after a crash (or a stop that could not
    release) renews its predecessor's leases at once instead of waiting for them to
    expire. The lock (flock, released when the process ends, however it ends) keeps two
    live notifiers from ever sharing a name, e.g. several nodes on one ``data_dir``:
    those after the first get a fresh name, as does one whose ``data_dir`` is not
    writable. Close the file when the notifier stops.
    """
    if not data_dir:
        return _new_name(), None
    path = Path(os.path.expanduser(data_dir)) / HOLDER_FILE
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        held = open(path, "a+", encoding="utf-8")  # noqa: SIM115 (kept open: the lock)
    except OSError as error:
        LOG.warning("Notifier: %s cannot be opened (%s); delivery leases of this "
                    "notifier expire on their own after a crash", path, error)
        return _new_name(), None
    try:
        fcntl.flock(held.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:  # another live notifier uses this data_dir's name
        held.close()
        return _new_name(), None
    held.seek(0)
    name = held.read().strip()
    if not name:
        name = _new_name()
        held.write(name)
        held.flush()
    return name, held


class DeliveryLeases:
    """Thread-safe. ``holder`` names this notifier in the store (:func:`holder_name`);
    :meth:`close` once stopped."""

    def __init__(self, storage: DataDriver, seconds: float, clock: Callable[[], float],
                 data_dir: str | None = None) -> None:
        self._storage = storage
        self._seconds = seconds
        self._clock = clock
        self.holder, self._holder_file = holder_name(data_dir)
        self._lock = threading.Lock()
        # Subscription id -> (the subscription, when its lease was last taken or renewed).
        self._held: dict[str, tuple[Subscription, float]] = {}

    def holds(self, subscription_id: str) -> bool:
        with self._lock:
            return subscription_id in self._held

    def held(self) -> list[Subscription]:
        with self._lock:
            return [subscription for subscription, _at in self._held.values()]

    def take(self, subscription: Subscription) -> bool:
        """Take (or renew) the lease; False when another notifier holds it. Raises
        SubscriptionDoesNotExist."""
        now = self._clock()
        taken = self._storage.subscriptions.acquire_delivery_lease(
            subscription.source, subscription.project, subscription.id, self.holder,
            self._seconds)
        with self._lock:
            if taken:
                self._held[subscription.id] = (subscription, now)
            else:
                self._held.pop(subscription.id, None)
        return taken

    def keep(self, subscription: Subscription) -> None:
        """Renew the lease once a third of its time has passed. Raises LeaseLost,
        SubscriptionDoesNotExist."""
        with self._lock:
            held = self._held.get(subscription.id)
        if held is not None and self._clock() - held[1] < self._seconds / 3:
            return
        if not self.take(subscription):
            raise LeaseLost(subscription.id)

    def release(self, subscription: Subscription) -> None:
        """Give the lease back (a storage failure leaves it to expire)."""
        with self._lock:
            self._held.pop(subscription.id, None)
        try:
            self._storage.subscriptions.release_delivery_lease(
                subscription.source, subscription.project, subscription.id, self.holder)
        except self._storage.transient_errors as error:
            LOG.warning("Notifier: the lease of subscription %s was not released (%s)",
                        subscription.id, error)

    def forget(self, subscription_ids: Iterable[str]) -> None:
        """Drop what is known of leases of subscriptions gone (nothing to release)."""
        with self._lock:
            for subscription_id in subscription_ids:
                self._held.pop(subscription_id, None)

    def release_all(self) -> None:
        """On stop: every lease held goes back, so other nodes carry on at once."""
        for subscription in self.held():
            self.release(subscription)

    def close(self) -> None:
        """Let the next notifier on this data_dir take the name."""
        if self._holder_file is not None:
            self._holder_file.close()
            self._holder_file = None
