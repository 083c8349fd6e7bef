"""The Lua scripts that make each change atomic, registered once per client.

Each script in ``scripts/`` runs with ``common.lua`` (and the subscription ones with
``subscription_common.lua``) in front of it. Redis runs a script alone, start to end, so
a script's reads and writes form one atomic step across every process using the store.
Scripts are called by SHA (EVALSHA); one the server does not know (after a restart or a
failover) is loaded again and the call repeated.
"""
from __future__ import annotations

from collections.abc import Sequence
from importlib import resources
from typing import Any

import redis
from redis.commands.core import Script

_SCRIPTS = resources.files(__package__) / "scripts"


def _source(name: str) -> str:
    return (_SCRIPTS / f"{name}.lua").read_text(encoding="utf-8")


class Scripts:
    """Every script as an attribute (``scripts.post``), to call through :func:`run`;
    ``load`` sends them all to the server at once."""

    def __init__(self, client: redis.Redis) -> None:
        common = _source("common")
        subscription_common = common + _source("subscription_common")

        def register(name: str, prelude: str = common) -> Script:
            return client.register_script(prelude + _source(name))

        self._client = client
        self.post = register("post")
        self.list = register("list")
        self.delete = register("delete")
        self.bulk_delete = register("bulk_delete")
        self.pop = register("pop")
        self.claim_create = register("claim_create")
        self.claim_get = register("claim_get")
        self.claim_update = register("claim_update")
        self.claim_delete = register("claim_delete")
        self.queue_set_metadata = register("queue_set_metadata")
        self.stats = register("stats")
        self.collect_garbage = register("collect_garbage")
        self.subscription_create = register("subscription_create", subscription_common)
        self.subscription_update = register("subscription_update", subscription_common)
        self.subscription_delete = register("subscription_delete", subscription_common)

    def load(self) -> None:
        """SCRIPT LOAD every script (one round trip), so that first calls find them."""
        with self._client.pipeline(transaction=False) as pipe:
            for value in vars(self).values():
                if isinstance(value, Script):
                    pipe.script_load(value.script)
            pipe.execute()


def run(script: Script, keys: Sequence[str], now: float, *args: Any,
        client: redis.Redis | None = None) -> Any:
    """Run ``script`` on a scope's ``keys`` with ``now`` as its first argument, on the
    driver's client or on ``client`` (a pipeline).

    ``repr`` keeps every digit of ``now``; Lua's ``tonumber`` reads it back exactly.
    """
    return script(keys=list(keys), args=[repr(now), *args], client=client)
