"""What the Redis driver adds to the contract: nothing expired stays in memory after
garbage collection, the safety-net expiry never outruns live data, and a lost server
is a transient error."""
import pytest
import redis

from tests import engines
from tests.conftest import make_conf
from zaqar.storage import load_driver
from zaqar.storage.base import NewMessage
from zaqar.storage.redis.driver import RedisDriver

pytestmark = pytest.mark.parametrize("engine", [engines.REDIS.name], indirect=True)

P = "project-a"
CLIENT = "3381af92-2b9e-11e3-b191-71861300734c"
SAFETY_MARGIN = 3600  # scripts/common.lua


def stored_keys(driver: RedisDriver) -> set[str]:
    return {key.decode() for key in driver.client.scan_iter(match=f"{driver.keyspace.prefix}:*")}


def test_garbage_collection_leaves_nothing_of_what_expired(driver, monkeypatch):
    now = [1_800_000_000.0]
    monkeypatch.setattr(driver, "clock", lambda: now[0])
    driver.messages.post("q", P, [NewMessage(body={"n": n}, ttl=60, delay=n % 2 * 10)
                                  for n in range(10)], CLIENT)
    claim = driver.claims.create("q", P, 60, 60, 3)
    driver.claims.delete("q", P, claim.id)
    driver.claims.create("q", P, 60, 60, 2)
    driver.subscriptions.create("q", P, "http://a.example", 60, {})
    driver.subscriptions.create("gone", P, "http://b.example", 60, {})
    now[0] += 121

    assert driver.collect_garbage() == 10 + 1 + 2  # messages, the live claim, subscriptions
    keyspace = driver.keyspace
    counter = keyspace.scope("q", P).message_ids
    assert stored_keys(driver) == {counter, keyspace.scopes,
                                   keyspace.queue_names(P), keyspace.queue_metadata(P)}

    driver.queues.delete("q", P)
    driver.collect_garbage()
    assert stored_keys(driver) == {counter}  # the queue's ids are never reused


def test_safety_net_expiry_outlives_everything_live(driver):
    [first, _] = driver.messages.post("q", P, [NewMessage(body={}, ttl=300)] * 2, CLIENT)
    claim = driver.claims.create("q", P, 600, 600, 1)
    driver.claims.delete("q", P, claim.id)  # writes the free set again
    driver.messages.delete("q", P, first)

    scope = driver.keyspace.scope("q", P)
    longest = (600 + 600) * 1000  # the first message's life, extended by its claim
    for key in scope.of_messages:
        ttl = driver.client.pttl(key)
        assert ttl == -2 or longest + SAFETY_MARGIN * 500 - 5000 < ttl, key
        assert ttl <= longest + SAFETY_MARGIN * 1000, key
    for key in (scope.queue_names, scope.queue_metadata, scope.scopes, scope.message_ids):
        assert driver.client.pttl(key) == -1, key


def test_scripts_flushed_from_the_server_are_loaded_again(driver):
    driver.client.script_flush()
    assert driver.messages.post("q", P, [NewMessage(body={}, ttl=60)], CLIENT)
    assert len(driver.messages.list("q", P, CLIENT, echo=True)) == 1


def test_an_unreachable_server_is_a_transient_error(engine, tmp_path):
    groups = engine.conf_groups()
    groups["drivers:message_store:redis"].update(
        uri="redis://127.0.0.1:1/0", max_reconnect_attempts=0)
    driver = load_driver(make_conf(tmp_path, **groups))
    try:
        assert driver.is_alive() is False
        with pytest.raises(driver.transient_errors):
            driver.queues.exists("q", P)
    finally:
        driver.close()


def test_a_killed_connection_is_opened_again_for_the_next_call(driver):
    assert driver.messages.post("q", P, [NewMessage(body={"n": 1}, ttl=60)], CLIENT)
    own = driver.client.client_id()  # the calling thread's connection, which scripts use
    killer = redis.Redis.from_url(engines.REDIS.uri)
    assert killer.client_kill_filter(_id=own)
    killer.close()
    assert driver.messages.post("q", P, [NewMessage(body={"n": 2}, ttl=60)], CLIENT)
    assert [m.body for m in driver.messages.list("q", P, CLIENT, echo=True)] == [
        {"n": 1}, {"n": 2}]


def test_a_store_of_the_global_counter_goes_on_from_its_last_id_in_every_scope(driver):
    """Stores written before ids were per scope keep the global counter's last value
    (keys.py): a scope's first post starts after it, so no id of then comes back."""
    driver.client.set(driver.keyspace.message_id_floor, 41)
    post = driver.messages.post
    assert post("q", P, [NewMessage(body={}, ttl=60)] * 2, CLIENT) == ["42", "43"]
    assert post("q2", P, [NewMessage(body={}, ttl=60)], CLIENT) == ["42"]
    assert post("q", P, [NewMessage(body={}, ttl=60)], CLIENT) == ["44"]
    assert driver.client.get(driver.keyspace.message_id_floor) == b"41"  # read only
