"""Delivery leases on Redis (SubscriptionController.acquire_delivery_lease).

Each lease is one key of its own, ``P:delivery-lease:<subscription id>``, a hash of its
``holder`` and ``expires`` (the driver's clock), read and written by a one-key script,
so it is atomic on a single server and on a Redis Cluster alike. The key also expires in
real time a minute after the lease would, so leases of subscriptions gone do not stay.
"""
from __future__ import annotations

import math

from zaqar.storage.redis import subscriptions

KEY_MARGIN_MS = 60_000  # the key outlives its lease by this much (real time)

# KEYS[1]: the lease; ARGV: holder, now, the new end, the key's lifetime in ms.
_ACQUIRE = """
local held = redis.call('HMGET', KEYS[1], 'holder', 'expires')
if held[1] and held[1] ~= ARGV[1] and tonumber(held[2]) > tonumber(ARGV[2]) then
  return 0
end
redis.call('HSET', KEYS[1], 'holder', ARGV[1], 'expires', ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return 1
"""
# KEYS[1]: the lease; ARGV[1]: holder.
_RELEASE = """
if redis.call('HGET', KEYS[1], 'holder') == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""


class SubscriptionController(subscriptions.SubscriptionController):
    """The Redis subscriptions with their delivery leases: what the driver serves as
    ``subscriptions``."""

    def _lease_key(self, subscription_id: str) -> str:
        return f"{self._driver.keyspace.prefix}:delivery-lease:{subscription_id}"

    def acquire_delivery_lease(self, queue: str, project: str, subscription_id: str,
                               holder: str, seconds: float) -> bool:
        """The subscription is looked up first (another key: a lease of one deleted
        meanwhile is harmless, its notifier finds it gone)."""
        self.get(queue, project, subscription_id)  # raises for a missing one
        now = self._driver.clock()
        lifetime = math.ceil(seconds * 1000) + KEY_MARGIN_MS
        taken = self._driver.client.eval(_ACQUIRE, 1, self._lease_key(subscription_id),
                                         holder, repr(now), repr(now + seconds), lifetime)
        return bool(taken)

    def release_delivery_lease(self, queue: str, project: str, subscription_id: str,
                               holder: str) -> None:
        self._driver.client.eval(_RELEASE, 1, self._lease_key(subscription_id), holder)
