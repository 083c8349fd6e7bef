"""The dead-letter contract (storage.base.DeadLetter) on every engine: the move at the
exact claim count, what the moved message looks like, atomicity within one claim.

Concurrency and crashes are in tests/storage/test_concurrent_claims.py.
"""
import pytest

from tests.storage.test_contract import CLIENT, OTHER, Clock, P, post
from zaqar.storage.base import DeadLetter

DLQ = DeadLetter("dead", max_claims=2)


@pytest.fixture
def clock(driver, monkeypatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(driver, "clock", fake)
    return fake


def claim_and_release(driver, queue="q", limit=10, dead_letter=DLQ):
    claim = driver.claims.create(queue, P, 60, 60, limit, dead_letter)
    if claim is not None:
        driver.claims.delete(queue, P, claim.id)
    return claim


def ids_of(driver, queue):
    return [msg.id for msg in driver.messages.list(queue, P, CLIENT, limit=20, echo=True,
                                                   include_claimed=True)]


def test_message_moves_on_the_claim_after_the_last_allowed_one(driver):
    post(driver, "q", 1)
    for count in (1, 2):
        claim = claim_and_release(driver)
        assert [msg.claim_count for msg in claim.messages] == [count]
    assert ids_of(driver, "dead") == []

    assert claim_and_release(driver) is None  # the third claim finds it dead: moved

    assert ids_of(driver, "q") == []
    moved = driver.messages.list("dead", P, CLIENT, echo=True)
    assert [(msg.body, msg.claim_count, msg.claim_id) for msg in moved] == [({"n": 0}, 2, None)]
    assert driver.queues.exists("dead", P)  # made by the move, as a post would
    assert driver.queues.stats("q", P).total == 0
    assert driver.queues.stats("dead", P).free == 1


def test_moved_messages_do_not_count_against_the_limit(driver):
    post(driver, "q", 3)
    claim = driver.claims.create("q", P, 60, 60, 1, DLQ)
    driver.claims.delete("q", P, claim.id)
    claim = driver.claims.create("q", P, 60, 60, 1, DLQ)
    driver.claims.delete("q", P, claim.id)  # message 1 has been claimed twice

    claim = driver.claims.create("q", P, 60, 60, 2, DLQ)

    assert [msg.body for msg in claim.messages] == [{"n": 1}, {"n": 2}]
    assert [msg.body for msg in driver.messages.list("dead", P, CLIENT, echo=True)] == [
        {"n": 0}]


def test_moved_message_lives_the_dead_letter_ttl_from_the_move(driver, clock):
    post(driver, "q", 1, ttl=300)
    for _ in range(2):
        claim_and_release(driver, dead_letter=DeadLetter("dead", 2, ttl=7200))
    clock.advance(100)
    claim_and_release(driver, dead_letter=DeadLetter("dead", 2, ttl=7200))
    [moved] = driver.messages.list("dead", P, CLIENT, echo=True)
    assert moved.ttl == 7200
    assert moved.created == clock.now
    clock.advance(7199)
    assert ids_of(driver, "dead") == [moved.id]
    clock.advance(2)
    assert ids_of(driver, "dead") == []


def test_without_a_dead_letter_ttl_the_message_keeps_its_own(driver):
    post(driver, "q", 1, ttl=500)
    for _ in range(3):
        claim_and_release(driver)
    [moved] = driver.messages.list("dead", P, CLIENT, echo=True)
    assert moved.ttl == 500


def test_moved_message_gets_the_next_id_of_the_dead_letter_queue(driver):
    [existing] = post(driver, "dead", 1)
    post(driver, "q", 1)
    for _ in range(3):
        claim_and_release(driver)
    ids = ids_of(driver, "dead")
    assert ids == [existing, str(int(existing) + 1)]
    # The source's id names nothing in the source any more.
    assert driver.messages.bulk_get("q", P, ["1"]) == []


def test_dead_letter_queue_keeps_its_metadata(driver):
    driver.queues.create("dead", P, {"kept": True})
    post(driver, "q", 1)
    for _ in range(3):
        claim_and_release(driver)
    assert driver.queues.get_metadata("dead", P) == {"kept": True}
    assert len(ids_of(driver, "dead")) == 1


def test_moved_message_is_claimable_in_the_dead_letter_queue(driver):
    post(driver, "q", 1)
    for _ in range(3):
        claim_and_release(driver)
    claim = driver.claims.create("dead", P, 60, 60, 10)
    assert [(msg.body, msg.claim_count) for msg in claim.messages] == [({"n": 0}, 3)]


def test_only_messages_at_the_count_move(driver):
    post(driver, "q", 1)
    claim_and_release(driver, limit=1)
    claim_and_release(driver, limit=1)  # message 0 claimed twice
    post(driver, "q", 1)  # message 1 never claimed
    claim = driver.claims.create("q", P, 60, 60, 10, DLQ)
    assert [msg.body for msg in claim.messages] == [{"n": 0}]  # the newer one
    assert [msg.body for msg in driver.messages.list("dead", P, CLIENT, echo=True)] == [
        {"n": 0}]
    assert claim.messages[0].claim_count == 1


def test_a_message_held_by_a_live_claim_does_not_move(driver):
    post(driver, "q", 1)
    for _ in range(2):
        claim_and_release(driver)
    held = driver.claims.create("q", P, 60, 60, 10)  # a third claim without the policy
    assert held is not None
    assert driver.claims.create("q", P, 60, 60, 10, DLQ) is None
    assert ids_of(driver, "dead") == []
    assert ids_of(driver, "q") != []


def test_without_a_policy_claims_go_on_counting(driver):
    post(driver, "q", 1)
    for count in range(1, 5):
        claim = claim_and_release(driver, dead_letter=None)
        assert claim.messages[0].claim_count == count
    assert not driver.queues.exists("dead", P)


def test_a_queue_is_never_its_own_dead_letter_queue(driver):
    post(driver, "q", 1)
    policy = DeadLetter("q", max_claims=1)
    for count in (1, 2):
        claim = claim_and_release(driver, dead_letter=policy)
        assert claim.messages[0].claim_count == count


def test_dead_letter_queue_is_in_the_claimers_project(driver):
    post(driver, "q", 1)
    for _ in range(3):
        claim_and_release(driver)
    assert driver.messages.list("dead", OTHER, CLIENT, echo=True) == []
    assert not driver.queues.exists("dead", OTHER)


@pytest.mark.parametrize("batch", [1, 30])
def test_every_message_ends_in_exactly_one_queue(driver, batch):
    posted = post(driver, "q", 25)
    for _ in range(6):
        while (claim := driver.claims.create("q", P, 60, 60, batch, DLQ)) is not None:
            driver.claims.delete("q", P, claim.id)
            if batch == 30:
                break
    source = ids_of(driver, "q")
    dead = driver.messages.list("dead", P, CLIENT, limit=30, echo=True)
    assert source == []
    assert sorted(msg.body["n"] for msg in dead) == list(range(len(posted)))
    assert all(msg.claim_count == 2 for msg in dead)
