"""Dead letters on a Redis Cluster: the second step of their move.

On one server the claim script moves dead letters into the dead-letter queue itself.
On a cluster that queue's keys are in another hash slot, which a script may not touch,
so the move takes two steps:

1. the claim script (claim_create.lua) takes them out of the queue and into the
   queue's ``dead-letters`` outbox (keys.py), in the same atomic step: a dead letter
   is then in exactly one of the queue and its outbox;
2. :func:`move_on` (after that claim, and from garbage collection) makes sure the
   dead-letter queue exists, stores the outbox's letters there with
   dead_letter_accept.lua, then empties what it moved from the outbox.

A crash (or a lost connection) between the steps leaves the letters in the outbox,
out of sight, until the next claim of the queue with a dead-letter queue or the next
garbage collection moves them on. Step 2 may run again for letters it stored already
(a crash before the outbox was emptied, or two processes at once): the dead-letter
queue's ``dead-letter-sources`` remembers each letter's source (queue and id there;
ids are never reused in a queue) until an hour after the letter expires, and a letter
whose source is there, or that has expired, is not stored again. So each is stored
once, unless a process whose clock runs more than that hour behind the one that
collected the source's record moves it again.
"""
from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING, Any

import msgpack

from zaqar.storage.redis.keys import scope_member

if TYPE_CHECKING:
    from zaqar.storage.redis.driver import RedisDriver


def move_on(driver: RedisDriver, queue: str, project: str) -> int:
    """Step 2 for every letter in ``queue``'s outbox; returns how many were stored in
    their dead-letter queues (letters moved before and expired ones are not)."""
    client, keyspace = driver.client, driver.keyspace
    outbox = keyspace.scope(queue, project).dead_letters
    waiting: dict[bytes, bytes] = client.hgetall(outbox)  # type: ignore[assignment]
    by_queue: dict[str, list[tuple[bytes, dict[bytes, Any]]]] = defaultdict(list)
    for source_id, raw in waiting.items():
        # raw: the state inside is msgpack itself, bytes that are no UTF-8 text
        letter: dict[bytes, Any] = msgpack.unpackb(raw, raw=True)
        by_queue[letter[b"d"].decode()].append((source_id, letter))
    stored = 0
    for dead_queue, letters in by_queue.items():
        letters.sort(key=lambda item: int(item[0]))  # the source's order (post order)
        driver.register_queue(dead_queue, project)  # exists before it holds anything
        args: list[Any] = []
        for source_id, letter in letters:
            args += [f"{queue}:{source_id.decode()}", letter[b"b"], letter[b"s"],
                     repr(letter[b"e"])]
        stored += int(driver.scripts.dead_letter_accept(
            keyspace.scope(dead_queue, project), driver.clock(),
            scope_member(dead_queue, project), keyspace.posts, *args))
        client.hdel(outbox, *(source_id for source_id, _ in letters))
    return stored
