"""What the Redis driver does on a Redis Cluster beyond the contract (which runs there
whole, as engine ``redis-cluster``): a scope's keys share one hash slot, scopes spread
over every master, dead letters cross slots in two steps, each stored once whatever
step a crash stops after, and one watch hears posts stored on every master."""
import threading

import pytest

from tests import engines
from tests.conftest import make_conf
from zaqar.storage import base, load_driver
from zaqar.storage.redis import dead_letters
from zaqar.storage.redis.keys import OWN_KEYS, scope_member

pytestmark = pytest.mark.parametrize("engine", [engines.REDIS_CLUSTER.name], indirect=True)

P = "project-a"
CLIENT = "3381af92-2b9e-11e3-b191-71861300734c"
DEAD = base.DeadLetter(queue="dlq", max_claims=1, ttl=None)


def post(driver, queue, count=1, ttl=300):
    return driver.messages.post(queue, P, [base.NewMessage(body={"n": n}, ttl=ttl)
                                           for n in range(count)], CLIENT)


def claim_and_release(driver, queue):
    claim = driver.claims.create(queue, P, 60, 60, 20)
    driver.claims.delete(queue, P, claim.id)


def bodies(driver, queue):
    return [m.body for m in driver.messages.list(queue, P, CLIENT, echo=True,
                                                 include_claimed=True, limit=20)]


def stash_only(driver, queue, dead_letter=DEAD):
    """The first step of a dead-letter move alone: the claim script, as if the process
    died right after it."""
    keys = driver.keyspace.scope(queue, P)
    return driver.scripts.claim_create(
        keys, driver.clock(), "c" * 32, 60, 60, 10, dead_letter.max_claims, "",
        dead_letter.queue, scope_member(dead_letter.queue, P), driver.keyspace.posts)


def test_the_keys_of_a_scope_share_one_slot(driver):
    client = driver.client
    for queue, project in [("q", P), ("q", "p:with}brace{s"), ("other", "")]:
        keys = driver.keyspace.scope(queue, project)
        assert len({client.keyslot(key) for key in keys[:OWN_KEYS]}) == 1, (queue, project)
        assert client.keyslot(keys.queue_names) == client.keyslot(keys.queue_metadata)


def test_what_a_post_and_a_claim_write_lands_in_the_scope_slot(driver):
    post(driver, "q", 3)
    driver.claims.create("q", P, 60, 60, 2)
    client = driver.client
    slot = client.keyslot(driver.keyspace.scope("q", P).messages)
    stored = [key for key in client.scan_iter(match=f"{driver.keyspace.prefix}:*")
              if b"{q:" in key]
    assert len(stored) >= 6  # ids, messages, bodies, states, expiries, free, claims...
    assert {client.keyslot(key) for key in stored} == {slot}


def test_scopes_spread_over_every_master(driver):
    client = driver.client
    for n in range(30):
        post(driver, f"q{n}")
    masters = {client.get_node_from_key(driver.keyspace.scope(f"q{n}", P).messages).name
               for n in range(30)}
    assert masters == {node.name for node in client.get_primaries()}
    assert len(masters) == 3


def test_a_queue_is_registered_before_its_first_post_and_again_after_one_cut_short(
        driver, monkeypatch):
    registered = []
    register = driver.register_queue
    monkeypatch.setattr(driver, "register_queue",
                        lambda *args: registered.append(args) or register(*args))
    keys = driver.keyspace.scope("q", P)
    post(driver, "q")
    post(driver, "q")  # registered: the post script alone
    assert registered == [("q", P)]
    assert driver.queues.exists("q", P)
    assert driver.client.sismember(driver.keyspace.scopes, scope_member("q", P))

    driver.client.delete(keys.queue_marker)  # a registration that stopped half-way
    post(driver, "q")
    assert registered == [("q", P)] * 2
    assert driver.client.exists(keys.queue_marker)
    assert bodies(driver, "q") == [{"n": 0}] * 3


def test_a_dead_letter_crosses_slots_in_two_steps(driver):
    [source_id] = post(driver, "q")
    assert driver.client.keyslot(driver.keyspace.scope("q", P).messages) != \
        driver.client.keyslot(driver.keyspace.scope("dlq", P).messages)
    claim_and_release(driver, "q")

    assert stash_only(driver, "q") == []  # step 1: out of the queue, into its outbox
    outbox = driver.keyspace.scope("q", P).dead_letters
    assert driver.client.hkeys(outbox) == [source_id.encode()]
    assert bodies(driver, "q") == [] and bodies(driver, "dlq") == []

    assert driver.claims.create("q", P, 60, 60, 10, dead_letter=DEAD) is None  # step 2
    assert bodies(driver, "dlq") == [{"n": 0}]
    assert driver.queues.exists("dlq", P)
    assert driver.client.hlen(outbox) == 0
    [moved] = driver.messages.list("dlq", P, CLIENT, echo=True)
    assert moved.claim_count == 1  # kept, as on one server


def test_garbage_collection_moves_on_what_a_crash_left_in_the_outbox(driver):
    post(driver, "q", 2)
    claim_and_release(driver, "q")
    stash_only(driver, "q")
    driver.collect_garbage()
    assert bodies(driver, "dlq") == [{"n": 0}, {"n": 1}]
    assert driver.client.hlen(driver.keyspace.scope("q", P).dead_letters) == 0
    assert driver.collect_garbage() == 0
    assert bodies(driver, "dlq") == [{"n": 0}, {"n": 1}]


def test_a_move_stopped_before_the_outbox_was_emptied_stores_nothing_twice(driver):
    post(driver, "q", 2)
    claim_and_release(driver, "q")
    stash_only(driver, "q")
    outbox = driver.keyspace.scope("q", P).dead_letters
    left = driver.client.hgetall(outbox)
    assert dead_letters.move_on(driver, "q", P) == 2
    driver.client.hset(outbox, mapping=left)  # as if the process died before HDEL

    assert dead_letters.move_on(driver, "q", P) == 0
    driver.collect_garbage()
    assert bodies(driver, "dlq") == [{"n": 0}, {"n": 1}]
    assert driver.client.hlen(outbox) == 0


def test_a_dead_letter_consumed_before_the_move_is_redone_stays_consumed(driver):
    post(driver, "q")
    claim_and_release(driver, "q")
    stash_only(driver, "q")
    outbox = driver.keyspace.scope("q", P).dead_letters
    left = driver.client.hgetall(outbox)
    dead_letters.move_on(driver, "q", P)
    [moved] = driver.messages.list("dlq", P, CLIENT, echo=True)
    driver.messages.delete("dlq", P, moved.id)
    driver.client.hset(outbox, mapping=left)

    dead_letters.move_on(driver, "q", P)
    assert bodies(driver, "dlq") == []


def test_two_processes_moving_the_same_outbox_store_each_letter_once(driver, another_driver):
    post(driver, "q", 20)
    claim_and_release(driver, "q")
    stash_only(driver, "q")
    start = threading.Barrier(2)

    def move(mover):
        start.wait()
        return dead_letters.move_on(mover, "q", P)

    results = []
    thread = threading.Thread(target=lambda: results.append(move(another_driver)))
    thread.start()
    results.append(move(driver))
    thread.join()
    assert sum(results) == 20
    assert sorted(m["n"] for m in bodies(driver, "dlq")) == list(range(20))


def test_an_expired_dead_letter_in_the_outbox_is_dropped(driver, monkeypatch):
    now = [1_800_000_000.0]
    monkeypatch.setattr(driver, "clock", lambda: now[0])
    post(driver, "q", ttl=60)
    claim_and_release(driver, "q")
    stash_only(driver, "q")
    now[0] += 1000  # past its life, which its claim made longer (ttl + grace)
    assert dead_letters.move_on(driver, "q", P) == 0
    assert driver.client.hlen(driver.keyspace.scope("q", P).dead_letters) == 0


def test_deleting_a_queue_moves_its_dead_letters_on_first(driver):
    post(driver, "q")
    claim_and_release(driver, "q")
    stash_only(driver, "q")
    driver.queues.delete("q", P)
    assert bodies(driver, "dlq") == [{"n": 0}]
    assert not driver.queues.exists("q", P)


def test_garbage_collection_forgets_scopes_without_queue_or_subscription(driver):
    post(driver, "kept")
    post(driver, "gone")
    driver.subscriptions.create("subscribed", P, "http://a.example", 60, {})
    driver.queues.delete("gone", P)
    driver.collect_garbage()
    members = {m.decode() for m in driver.client.smembers(driver.keyspace.scopes)}
    assert members == {scope_member("kept", P), scope_member("subscribed", P)}
    subscribed = driver.client.smembers(driver.keyspace.subscribed_scopes)
    assert subscribed == {scope_member("subscribed", P).encode()}
    assert [s.subscriber for s in driver.subscriptions.list_all()] == ["http://a.example"]


def test_garbage_collection_leaves_nothing_of_what_expired(driver, monkeypatch):
    now = [1_800_000_000.0]
    monkeypatch.setattr(driver, "clock", lambda: now[0])
    post(driver, "q", 3, ttl=60)
    claim_and_release(driver, "q")
    driver.claims.create("q", P, 60, 60, 10, dead_letter=DEAD)  # all three to "dlq"
    driver.claims.create("dlq", P, 60, 60, 1)
    driver.subscriptions.create("q", P, "http://a.example", 60, {})
    now[0] += 2 * 3600  # past every life, and the hour dead-letter sources are kept

    assert driver.collect_garbage() == 3 + 1 + 1  # messages, the claim, the subscription
    keyspace = driver.keyspace
    q, dlq = keyspace.scope("q", P), keyspace.scope("dlq", P)
    stored = {key.decode() for key in driver.client.scan_iter(match=f"{keyspace.prefix}:*")}
    assert stored == {q.message_ids, q.queue_marker, dlq.message_ids, dlq.queue_marker,
                      keyspace.scopes, q.queue_names, q.queue_metadata}


def test_one_watch_hears_posts_stored_on_every_master(driver):
    queues = [f"w{n}" for n in range(12)]
    client = driver.client
    assert len({client.get_node_from_key(driver.keyspace.scope(q, P).messages).name
                for q in queues}) == 3
    heard, everything = [], threading.Event()

    def on_post(queue, project):
        heard.append(queue)
        if set(queues) <= set(heard):
            everything.set()

    watch = driver.watch_posts(on_post)
    try:
        for queue in queues:
            post(driver, queue)
        assert everything.wait(10), sorted(set(queues) - set(heard))
    finally:
        watch.close()


def test_a_key_prefix_with_braces_is_refused(engine, tmp_path):
    engine.check_reachable()
    groups = engine.conf_groups()
    groups["drivers:message_store:redis"]["key_prefix"] = "zaqar{eu}"
    with pytest.raises(ValueError, match="key_prefix"):
        load_driver(make_conf(tmp_path, **groups))
