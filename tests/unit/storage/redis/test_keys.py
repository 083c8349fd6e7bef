"""The key layout: scripts and Python agree on the order of a scope's keys, and scopes
of different projects or queues never share a key."""
import re
from importlib import resources

from zaqar.storage.redis.keys import Keyspace, ScopeKeys, parse_scope_member, scope_member

COMMON_LUA = resources.files("zaqar.storage.redis") / "scripts" / "common.lua"


def test_common_lua_names_the_keys_in_the_order_of_scope_keys():
    declared = {}
    for names, values in re.findall(r"^local ([A-Z_, ]+) = ((?:KEYS\[\d+\],? ?)+)$",
                                    COMMON_LUA.read_text(), flags=re.MULTILINE):
        indexes = [int(i) for i in re.findall(r"KEYS\[(\d+)\]", values)]
        declared.update(zip(names.replace(" ", "").split(","), indexes, strict=True))
    assert declared == {field.upper(): i for i, field in enumerate(ScopeKeys._fields, 1)}


def test_scopes_of_other_projects_and_queues_share_no_key():
    keyspace = Keyspace("zaqar")
    scopes = [keyspace.scope("q", "p"), keyspace.scope("q", "p:q"),
              keyspace.scope("q", "other"), keyspace.scope("q2", "p")]
    own = [{scope.message_ids, *scope.of_messages, *scope.of_subscriptions}
           for scope in scopes]
    assert all(a.isdisjoint(b) for i, a in enumerate(own) for b in own[i + 1:])


def test_every_key_carries_the_prefix():
    scope = Keyspace("deployment-a").scope("q", "p")
    assert all(key.startswith("deployment-a:") for key in scope)


def test_scope_members_round_trip_with_colons_in_the_project():
    assert parse_scope_member(scope_member("orders", "tenant:eu:1")) == \
        ("orders", "tenant:eu:1")
