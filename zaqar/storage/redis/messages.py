"""Messages on Redis.

Ids come from a counter per scope (INCRBY inside the post script; keys.py), so they
are never reused in the queue, give post order and tell nothing of other queues; each
queue's ``messages`` sorted set is scored by them, so a marker means "after that id",
whether or not its message still exists. Every change is one
script (scripts/*.lua): atomic, one round trip.
"""
from __future__ import annotations

import builtins
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from zaqar import jsoncodec
from zaqar.storage import base, errors
from zaqar.storage.redis import records
from zaqar.storage.redis.keys import ScopeKeys, scope_member

if TYPE_CHECKING:
    from zaqar.storage.redis.driver import RedisDriver


class MessageController(base.MessageController):
    def __init__(self, driver: RedisDriver) -> None:
        self._driver = driver

    def post(self, queue: str, project: str, messages: Sequence[base.NewMessage],
             client_id: str) -> list[str]:
        """One script: the queue is created if needed, the batch gets consecutive ids
        and is announced to :meth:`RedisDriver.watch_posts`. On a cluster the script
        stores nothing in a queue not registered yet (:meth:`RedisDriver.register_queue`):
        it is then registered and the script run again.

        The states are packed and the times written here (``repr`` keeps every digit),
        from the ``now`` the script gets: this work is spread over the driver's
        processes rather than done by the one Redis thread.
        """
        if not messages:
            return []
        now = self._driver.clock()
        kinds: dict[tuple[int, int, str | None], tuple[bytes, str, str]] = {}
        per_message: list[Any] = []
        for message in messages:
            kind = (message.ttl, message.delay, message.checksum)  # a batch mostly has one
            if kind not in kinds:
                kinds[kind] = _stored(now, message, client_id)
            body = message.body
            stored = body.text.encode() if isinstance(body, base.SealedBody) \
                else jsoncodec.dumps(body)
            per_message += [stored, *kinds[kind]]
        last = now + max(message.ttl for message in messages)
        args = (queue, scope_member(queue, project), self._driver.keyspace.posts,
                len(messages), repr(last), *per_message)
        first = int(self._driver.scripts.post(self._scope(queue, project), now, *args))
        if not first:  # cluster: the queue is not registered, and nothing was stored
            self._driver.register_queue(queue, project)
            first = int(self._driver.scripts.post(self._scope(queue, project), now, *args))
        return [str(first + offset) for offset in range(len(messages))]

    def list(self, queue: str, project: str, client_id: str, marker: str | None = None,
             limit: int = 10, echo: bool = False, include_claimed: bool = False,
             include_delayed: bool = False) -> list[base.Message]:
        now = self._driver.clock()
        reply = self._driver.scripts.list(
            self._scope(queue, project), now, client_id, records.parse_marker(marker), limit,
            *(_flag(f) for f in (echo, include_claimed, include_delayed)))
        return records.messages(reply, now)

    def bulk_get(self, queue: str, project: str,
                 message_ids: Iterable[str]) -> builtins.list[base.Message]:
        """The live ones in post order, read in one MULTI (states and bodies agree)."""
        ids = sorted(set(message_ids), key=_post_order)
        if not ids:
            return []
        now = self._driver.clock()
        keys = self._scope(queue, project)
        with self._driver.client.pipeline(transaction=True) as pipe:
            pipe.hmget(keys.states, ids)
            pipe.hmget(keys.bodies, ids)
            states, bodies = pipe.execute()
        found = (records.live_message(message_id, state, body, now)
                 for message_id, state, body in zip(ids, states, bodies, strict=True)
                 if state is not None and body is not None)
        return [message for message in found if message is not None]

    def delete(self, queue: str, project: str, message_id: str,
               claim_id: str | None = None) -> None:
        """The claim check and the removal are one script: a claim taken in between
        cannot be overridden."""
        outcome = self._driver.scripts.delete(self._scope(queue, project), self._driver.clock(),
                                              message_id, claim_id or "").decode()
        if outcome == "claimed":
            raise errors.MessageIsClaimed(message_id)
        if outcome == "not_claimed":
            raise errors.MessageNotClaimed(message_id)
        if outcome == "not_claimed_by":
            raise errors.MessageNotClaimedBy(message_id, claim_id or "")

    def bulk_delete(self, queue: str, project: str, message_ids: Iterable[str],
                    claim_ids: Sequence[str] | None = None) -> None:
        ids = builtins.list(dict.fromkeys(message_ids))
        if not ids:
            return
        claims = [] if claim_ids is None else builtins.list(claim_ids)
        reply = self._driver.scripts.bulk_delete(
            self._scope(queue, project), self._driver.clock(),
            -1 if claim_ids is None else len(claims), *claims, *ids)
        outcome, *details = (part.decode() for part in reply)
        if outcome == "not_claimed":
            raise errors.MessageNotClaimed(details[0])
        if outcome == "not_claimed_by":
            raise errors.MessageNotClaimedBy(details[0], details[1])

    def pop(self, queue: str, project: str, limit: int) -> builtins.list[base.Message]:
        now = self._driver.clock()
        reply = self._driver.scripts.pop(self._scope(queue, project), now, limit)
        return records.messages(reply, now)

    def _scope(self, queue: str, project: str) -> ScopeKeys:
        return self._driver.keyspace.scope(queue, project)


def _stored(now: float, message: base.NewMessage, client_id: str) -> tuple[bytes, str, str]:
    """A new message's state, expiry and end of delay ('' for none), as the post script
    takes them."""
    expires = now + message.ttl
    visible = now + message.delay if message.delay > 0 else 0
    return (records.pack_new_state(now, expires, visible, client_id, message.checksum),
            repr(expires), repr(visible) if visible else "")


def _flag(value: bool) -> str:
    return "1" if value else "0"


def _post_order(message_id: str) -> tuple[int, str]:
    """Stored ids are decimal numbers without leading zeros: longer is later. (Other
    strings name no message and are left out anyway.)"""
    return len(message_id), message_id
