"""Where everything lives in Redis: the key layout.

Every key starts with ``[drivers:message_store:redis] key_prefix`` (``P`` below). A
*scope* is one queue name in one project; messages, claims and subscriptions belong to
one scope. Queue names never hold ``:`` (the api layer admits ``[a-zA-Z0-9_-]`` only),
so ``<kind>:<queue>:<project>`` names one scope's key whatever the project id holds.

Global and per project:

- ``P:message-ids``            STRING  the floor of every scope's message ids: read only.
                                       Stores written before ids were per scope hold
                                       here the last id of their one global counter; a
                                       scope's first post goes on from it, so no id a
                                       client may hold from then is handed out again.
                                       Never written now (absent: 0).
- ``P:scopes``                 SET     ``<queue>:<project>`` of every scope holding
                                       anything, for garbage collection
- ``P:subscribed-scopes``      SET     ``<queue>:<project>`` of every scope that may hold
                                       subscriptions (one may linger after its last
                                       subscription's key expired on its own): where
                                       the notifier looks for them
- ``P:queues:<project>``       ZSET    queue names, all scored 0 (lexical order, markers)
- ``P:queue-metadata:<project>`` HASH  queue name -> metadata (JSON); a queue exists
                                       while it has a field here

Per scope (``<S>`` is ``<queue>:<project>``):

- ``P:message-ids:<S>`` STRING  the last message id handed out in the scope (INCRBY in
                             the post script). Ids count the scope's own messages only,
                             so they tell nothing of other queues. Deleting the queue
                             (or its messages) and garbage collection leave it, with no
                             expiry: a queue made again under the name goes on from there,
                             never handing out an id a client may still hold (one small
                             key per scope ever posted to).
- ``P:messages:<S>``   ZSET  message id -> id: post order, for listing and markers
- ``P:bodies:<S>``     HASH  message id -> body (JSON)
- ``P:states:<S>``     HASH  message id -> state (msgpack map, see scripts/common.lua)
- ``P:expiries:<S>``   ZSET  message id -> when it expires (garbage collection, stats)
- ``P:free:<S>``       ZSET  message id -> id: the candidates of claims and pops, oldest
                             first (a hint; a message's state has the last word)
- ``P:delayed:<S>``    ZSET  message id -> when its delay ends
- ``P:claimed:<S>``    ZSET  message id -> when its claim ends
- ``P:claims:<S>``     HASH  claim id -> claim (msgpack map: ttl, grace, created,
                             expires, ids of the messages it took)
- ``P:claim-expiries:<S>``        ZSET  claim id -> when it expires
- ``P:subscriptions:<S>``         HASH  subscription id -> subscription (msgpack map)
- ``P:subscribers:<S>``           HASH  subscriber URI -> subscription id (uniqueness)
- ``P:subscription-expiries:<S>`` ZSET  subscription id -> when it expires

One pub/sub channel (not a key):

- ``P:posts``  the post script PUBLISHes the scope member (``<queue>:<project>``) of
               every batch it stores: what ``RedisDriver.watch_posts`` listens to

Per scope, on a Redis Cluster only (where what spans slots takes several steps: the
queue's registration, driver.py; the move of dead letters, dead_letters.py):

- ``P:dead-letters:<S>``        HASH  source message id -> a dead letter on its way to
                                      the dead-letter queue (msgpack map: d queue name,
                                      b body, s state, e expires)
- ``P:dead-letter-sources:<S>`` ZSET  ``<source queue>:<source id>`` -> when the dead
                                      letter it became expires: what was moved in already
- ``P:queue:<S>``               STRING ``1`` once the queue is registered in the keys
                                      of other slots (its metadata field, its name, its
                                      ``scopes`` member; driver.py): the post script
                                      stores nothing in a queue without it

Every script gets a scope's keys in the order of :class:`ScopeKeys` (scripts/common.lua
names them the same way), so each declares all the keys it may touch.

On a Redis Cluster a script may only touch keys of one hash slot. There a scope's own
keys are named ``P:<kind>:{<queue>:<project>}`` and a project's two queue keys
``P:queues:{@<project>}`` and ``P:queue-metadata:{@<project>}`` (the part in braces is
the hash tag: it alone picks the slot); ``P:scopes``, ``P:subscribed-scopes`` keep their
names, each in a slot of its own. Scripts then get the scope's own keys only (the first
:data:`OWN_KEYS`), and the driver writes the global and per-project keys with separate
commands (driver.py says in which order and why). ``P:message-ids`` is not read on a
cluster (a cluster store is new: it has no global counter of old).
"""
from __future__ import annotations

from typing import NamedTuple


class ScopeKeys(NamedTuple):
    """The keys of one scope, in the order the Lua scripts receive them as KEYS: the
    scope's own first (one hash slot on a cluster), then the global and per-project
    ones the scripts touch on a single server only (:data:`OWN_KEYS`)."""

    message_ids: str  # the scope's own counter
    messages: str
    bodies: str
    states: str
    expiries: str
    free: str
    delayed: str
    claimed: str
    claims: str
    claim_expiries: str
    subscriptions: str
    subscribers: str
    subscription_expiries: str
    dead_letters: str
    dead_letter_sources: str
    queue_marker: str
    queue_names: str
    queue_metadata: str
    scopes: str
    message_id_floor: str
    subscribed_scopes: str

    @property
    def of_messages(self) -> tuple[str, ...]:
        """The keys a queue's messages and claims live in (deleted with the queue)."""
        return (self.messages, self.bodies, self.states, self.expiries, self.free,
                self.delayed, self.claimed, self.claims, self.claim_expiries,
                self.dead_letters, self.dead_letter_sources)

    @property
    def of_subscriptions(self) -> tuple[str, ...]:
        return self.subscriptions, self.subscribers, self.subscription_expiries


# How many of a scope's keys are its own: what a script gets on a cluster.
OWN_KEYS = ScopeKeys._fields.index("queue_names")


class Keyspace:
    """Names the keys of one deployment (one ``key_prefix``).

    On a cluster (``cluster=True``) a scope's own keys carry the hash tag
    ``{<queue>:<project>}`` and a project's queue keys ``{@<project>}``, so that each
    group lives in one hash slot; on a single server the names have no tag (stores
    written before cluster support keep their keys).
    """

    def __init__(self, prefix: str, cluster: bool = False) -> None:
        if cluster and ("{" in prefix or "}" in prefix):
            raise ValueError(f"The Redis key_prefix {prefix!r} may not hold '{{' or '}}' on "
                             "a Redis Cluster: they would change the keys' hash slots.")
        self.prefix = prefix
        self.cluster = cluster
        self.message_id_floor = f"{prefix}:message-ids"
        self.scopes = f"{prefix}:scopes"
        self.subscribed_scopes = f"{prefix}:subscribed-scopes"
        self.posts = f"{prefix}:posts"  # a pub/sub channel

    def queue_names(self, project: str) -> str:
        return f"{self.prefix}:queues:{self._project_tag(project)}"

    def queue_metadata(self, project: str) -> str:
        return f"{self.prefix}:queue-metadata:{self._project_tag(project)}"

    def scope(self, queue: str, project: str) -> ScopeKeys:
        scope = f"{{{queue}:{project}}}" if self.cluster else f"{queue}:{project}"

        def key(kind: str) -> str:
            return f"{self.prefix}:{kind}:{scope}"

        return ScopeKeys(
            key("message-ids"), key("messages"), key("bodies"), key("states"),
            key("expiries"), key("free"), key("delayed"), key("claimed"), key("claims"),
            key("claim-expiries"), key("subscriptions"), key("subscribers"),
            key("subscription-expiries"), key("dead-letters"), key("dead-letter-sources"),
            key("queue"), self.queue_names(project), self.queue_metadata(project), self.scopes,
            self.message_id_floor, self.subscribed_scopes)

    def _project_tag(self, project: str) -> str:
        # Never empty: "{}" would hash the whole key, parting the two keys of a project.
        return f"{{@{project}}}" if self.cluster else project


def scope_member(queue: str, project: str) -> str:
    """A scope as a member of the ``scopes`` set."""
    return f"{queue}:{project}"


def parse_scope_member(member: str) -> tuple[str, str]:
    """(queue, project) of a ``scopes`` member."""
    queue, _, project = member.partition(":")
    return queue, project
