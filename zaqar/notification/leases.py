"""The delivery leases one notifier holds, so that of several notifiers on one store
(several nodes) one delivers to a subscription at a time.

A lease is taken in the store (``SubscriptionController.acquire_delivery_lease``) for
``[notification] delivery_lease`` seconds, renewed once a third of that has passed, and
released when nothing more is due; a notifier that dies leaves its leases to expire.
"""
import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable, Iterable

from zaqar.storage.base import DataDriver, Subscription

LOG = logging.getLogger(__name__)


class LeaseLost(Exception):
    """Another notifier holds the subscription's delivery lease now (this one stalled
    past its end): this one stops delivering to it, and stores nothing of it."""


class DeliveryLeases:
    """Thread-safe. ``holder`` names this notifier in the store: unique per process."""

    def __init__(self, storage: DataDriver, seconds: float,
                 clock: Callable[[], float]) -> None:
        self._storage = storage
        self._seconds = seconds
        self._clock = clock
        self.holder = f"{socket.gethostname()[:64]}:{os.getpid()}:{uuid.uuid4().hex[:12]}"
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
