"""What the MongoDB driver adds to the contract: TTL indexes that follow each
document's expiry, batches invisible until whole, the numbering lease, the polling
post watch, and a lost server as a transient error."""
import queue
import socket
import time
import uuid

import pymongo
import pytest

from tests import engines
from tests.conftest import make_conf
from tests.storage.mongodb import standin
from zaqar.storage import errors, load_driver
from zaqar.storage.base import NewMessage
from zaqar.storage.mongodb import documents as d
from zaqar.storage.mongodb import locks
from zaqar.storage.mongodb.watch import PostWatch

pytestmark = pytest.mark.parametrize("engine", [engines.MONGODB.name], indirect=True)

P = "project-a"
CLIENT = "3381af92-2b9e-11e3-b191-71861300734c"
STANDIN_MAX_ON_DATES = ("nx-27017 0.8 ignores $max on date fields (a no-op; MongoDB "
                        "compares dates): the TTL date keeps the message's own expiry")


def post(driver, queue="q", n=1, ttl=300):
    return driver.messages.post(queue, P, [NewMessage(body={"n": i}, ttl=ttl)
                                           for i in range(n)], CLIENT)


def test_every_expiring_collection_has_a_ttl_index_on_its_expiry_date(driver):
    for name in (d.MESSAGES, d.CLAIMS, d.SUBSCRIPTIONS):
        ttl = [index for index in driver.db[name].list_indexes()
               if "expireAfterSeconds" in index]
        assert [(dict(index["key"]), index["expireAfterSeconds"]) for index in ttl] == \
            [({"ea": 1}, 0)]


def test_a_claim_moves_the_ttl_date_with_the_grace(driver, request):
    if standin.uri() is not None:
        request.applymarker(pytest.mark.xfail(strict=True, reason=STANDIN_MAX_ON_DATES))
    [mid] = post(driver, ttl=60)
    now = driver.clock()
    driver.claims.create("q", P, 100, 100, 1)
    stored = driver.db[d.MESSAGES].find_one({"s": d.scope("q", P), "seq": int(mid)})
    assert stored["e"] >= now + 200
    assert stored["ea"] == d.expiry_date(stored["e"])


def test_a_batch_left_half_stored_by_a_dead_poster_stays_invisible(driver):
    [first] = post(driver)
    # What a poster that died after inserting part of its batch leaves behind.
    now = driver.clock()
    driver.db[d.MESSAGES].insert_many([
        d.new_message(d.scope("q", P), int(first) + n, "dead-poster",
                      NewMessage(body="half", ttl=300), CLIENT, now) for n in (1, 2)])
    assert [m.id for m in driver.messages.list("q", P, CLIENT, echo=True)] == [first]
    assert driver.messages.bulk_get("q", P, [str(int(first) + 1)]) == []
    assert driver.queues.stats("q", P).total == 1
    assert [m.id for m in driver.claims.create("q", P, 60, 60, 10).messages] == [first]
    assert driver.messages.pop("q", P, 10) == []


def test_a_lock_left_by_a_dead_poster_delays_posts_for_its_lease_only(driver):
    [before] = post(driver)
    driver.db[d.QUEUES].update_one({"_id": d.scope("q", P)},
                                   {"$set": {"lk": "dead-poster", "lu": time.time() + 0.5}})
    started = time.monotonic()
    [after] = post(driver)
    assert 0.3 < time.monotonic() - started < locks.LEASE
    assert int(after) == int(before) + 1


def test_a_lock_held_past_max_attempts_is_unavailable(driver, tmp_path):
    conf = make_conf(tmp_path, **{**engines.MONGODB.conf_groups(), engines.MONGODB.group: {
        **engines.MONGODB.conf_groups()[engines.MONGODB.group], "max_attempts": 3}})
    impatient = load_driver(conf)
    try:
        post(driver)
        driver.db[d.QUEUES].update_one({"_id": d.scope("q", P)},
                                       {"$set": {"lk": "other", "lu": time.time() + 60}})
        with pytest.raises(errors.StorageUnavailable):
            post(impatient)
    finally:
        impatient.close()


def test_the_polling_watch_announces_each_post_once(driver, another_driver):
    heard: queue.Queue = queue.Queue()
    watch = PostWatch(another_driver.db[d.QUEUES], lambda q, p: heard.put((q, p)), 0.01,
                      use_change_streams=False)
    try:
        assert watch.mode == "polling"
        post(driver, "q1")
        assert heard.get(timeout=5) == ("q1", P)
        post(driver, "q1")
        post(driver, "q2")
        assert {heard.get(timeout=5), heard.get(timeout=5)} == {("q1", P), ("q2", P)}
        driver.queues.set_metadata("q1", P, {"changed": True})
        with pytest.raises(queue.Empty):
            heard.get(timeout=0.5)
    finally:
        watch.close()


def test_a_lost_server_is_a_transient_error(engine, tmp_path):
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    conf = make_conf(tmp_path, drivers={"message_store": "mongodb"}, **{
        engines.MONGODB.group: {"uri": f"mongodb://127.0.0.1:{port}/?"
                                       "serverSelectionTimeoutMS=200",
                                "database": f"unreachable_{uuid.uuid4().hex[:6]}"}})
    lost = load_driver(conf)
    try:
        assert lost.is_alive() is False
        with pytest.raises(lost.transient_errors):
            lost.queues.exists("q", P)
        assert issubclass(pymongo.errors.ServerSelectionTimeoutError, lost.transient_errors)
    finally:
        lost.close()


def test_a_queue_made_by_its_first_post_is_whole(driver):
    post(driver, "lazy")
    assert driver.queues.get_metadata("lazy", P) == {}
    assert [(q.name, q.metadata) for q in driver.queues.list(P, detailed=True)] == \
        [("lazy", {})]
    assert driver.queues.count(P) == 1
