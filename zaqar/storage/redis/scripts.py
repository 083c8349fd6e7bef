"""The Lua scripts that make each change atomic, and the per-thread clients that run them.

Each script in ``scripts/`` runs with ``common.lua`` (and the subscription ones with
``subscription_common.lua``) in front of it. Redis runs a script alone, start to end, so
a script's reads and writes form one atomic step across every process using the store.
Scripts are called by SHA (EVALSHA); one the server does not know (after a restart or a
failover) is loaded again and the call repeated.

On a Redis Cluster a script runs on the master of its keys' hash slot and may touch that
slot only: it gets a scope's own keys (keys.py ``OWN_KEYS``), atomic as on one server.
"""
from __future__ import annotations

import threading
from collections.abc import Sequence
from importlib import resources
from typing import Any

import redis
from redis.client import Pipeline
from redis.cluster import RedisCluster
from redis.commands.core import Script

from zaqar.storage.redis.connection import Client
from zaqar.storage.redis.keys import OWN_KEYS

_SCRIPTS = resources.files(__package__) / "scripts"


def _source(name: str) -> str:
    return (_SCRIPTS / f"{name}.lua").read_text(encoding="utf-8")


class ThreadClients:
    """A client per thread over one connection pool, each holding a connection of its
    own for the thread's life.

    redis-py's pooled path (checking the pid, taking and giving back a connection under
    a lock, deprecation checks) cost about a third of a script call's client-side time.
    Threads here are few and long-lived: gunicorn workers' one thread, the websocket
    server's runner threads. Commands keep the pool's settings (timeouts, retries).
    A cluster client (a pool per node, thread-safe) is shared as it is.
    """

    def __init__(self, shared: Client) -> None:
        self.shared = shared
        self.cluster = isinstance(shared, RedisCluster)
        self._local = threading.local()

    def get(self) -> Client:
        if isinstance(self.shared, RedisCluster):
            return self.shared
        client: redis.Redis | None = getattr(self._local, "client", None)
        if client is None:
            client = redis.Redis(connection_pool=self.shared.connection_pool,
                                 single_connection_client=True)
            self._local.client = client
        return client


class LuaScript:
    """One script, called as ``script(keys, now, *args)`` on the calling thread's
    client, or queued on ``pipeline``; ``now`` comes first in ARGV.

    ``repr`` keeps every digit of ``now``; Lua's ``tonumber`` reads it back exactly.
    On a cluster only the first :data:`OWN_KEYS` keys are sent (the scope's own).
    """

    def __init__(self, clients: ThreadClients, source: str) -> None:
        self._clients = clients
        self._script: Script = clients.shared.register_script(source)
        self._width = OWN_KEYS if clients.cluster else None
        self.source = source

    def __call__(self, keys: Sequence[str], now: float, *args: Any,
                 pipeline: Pipeline | None = None) -> Any:
        if self._width is not None:
            keys = keys[:self._width]
        if pipeline is not None:  # redis-py loads the pipeline's scripts before it runs
            return self._script(keys=list(keys), args=[repr(now), *args], client=pipeline)
        client = self._clients.get()
        command = ("EVALSHA", self._script.sha, len(keys), *keys, repr(now), *args)
        try:
            return client.execute_command(*command)
        except redis.exceptions.NoScriptError:
            client.script_load(self.source)
            return client.execute_command(*command)


class Scripts:
    """Every script as an attribute (``scripts.post(keys, now, ...)``); ``load`` sends
    them all to the server at once."""

    def __init__(self, clients: ThreadClients) -> None:
        common = _source("common")
        subscription_common = common + _source("subscription_common")

        def register(name: str, prelude: str = common) -> LuaScript:
            return LuaScript(clients, prelude + _source(name))

        self._clients = clients
        self.post = register("post")
        self.list = register("list")
        self.delete = register("delete")
        self.bulk_delete = register("bulk_delete")
        self.pop = register("pop")
        self.claim_create = register("claim_create")
        self.claim_get = register("claim_get")
        self.claim_update = register("claim_update")
        self.claim_delete = register("claim_delete")
        self.queue_set_metadata = register("queue_set_metadata", "")
        self.stats = register("stats")
        self.collect_garbage = register("collect_garbage")
        self.dead_letter_accept = register("dead_letter_accept")
        self.subscription_create = register("subscription_create", subscription_common)
        self.subscription_update = register("subscription_update", subscription_common)
        self.subscription_delete = register("subscription_delete", subscription_common)

    def load(self) -> None:
        """SCRIPT LOAD every script (one round trip; on a cluster, one per script, sent
        to every master), so that first calls find them."""
        if isinstance(self._clients.shared, RedisCluster):
            for value in vars(self).values():
                if isinstance(value, LuaScript):
                    self._clients.shared.script_load(value.source)
            return
        with self._clients.shared.pipeline(transaction=False) as pipe:
            for value in vars(self).values():
                if isinstance(value, LuaScript):
                    pipe.script_load(value.source)
            pipe.execute()
