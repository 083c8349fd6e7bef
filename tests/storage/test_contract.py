"""The storage contract suite: every driver, on every real engine, must pass all of it.

The ``driver`` fixture is parametrized over the engines (tests/conftest.py). Time-based
behaviour travels in time through the driver's ``clock``, never by sleeping.
"""
import pytest

from zaqar.storage import errors
from zaqar.storage.base import NewMessage

P = "project-a"
OTHER = "project-b"
CLIENT = "3381af92-2b9e-11e3-b191-71861300734c"
OTHER_CLIENT = "9a9c3d5e-2b9e-11e3-b191-71861300734c"


class Clock:
    # Far past any real date the suite will run on: stores that also expire documents by
    # the real clock (MongoDB's TTL monitor, the stand-in's sweeps) never see the fake
    # time as past.
    def __init__(self, start: float = 4_000_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock(driver, monkeypatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(driver, "clock", fake)
    return fake


def post(driver, queue="q", n=1, ttl=300, delay=0, client=CLIENT, project=P):
    return driver.messages.post(queue, project, [NewMessage(body={"n": i}, ttl=ttl, delay=delay)
                                                 for i in range(n)], client)


# -- queues ---------------------------------------------------------------------------

def test_queue_create_reports_whether_it_was_new(driver):
    assert driver.queues.create("q", P, {"a": 1}) is True
    assert driver.queues.create("q", P, {"b": 2}) is False
    assert driver.queues.get_metadata("q", P) == {"a": 1}


def test_queue_metadata_roundtrip_and_missing_queue(driver):
    driver.queues.create("q", P)
    driver.queues.set_metadata("q", P, {"_default_message_ttl": 120, "nested": {"x": [1]}})
    assert driver.queues.get_metadata("q", P) == {"_default_message_ttl": 120,
                                                  "nested": {"x": [1]}}
    with pytest.raises(errors.QueueDoesNotExist):
        driver.queues.get_metadata("missing", P)
    with pytest.raises(errors.QueueDoesNotExist):
        driver.queues.set_metadata("missing", P, {})


def test_queue_exists_and_delete(driver):
    driver.queues.create("q", P)
    post(driver, "q", 3)
    assert driver.queues.exists("q", P)
    driver.queues.delete("q", P)
    assert not driver.queues.exists("q", P)
    assert driver.messages.list("q", P, CLIENT, echo=True) == []
    driver.queues.delete("q", P)  # deleting again is no error


def test_a_queue_made_by_its_first_post_exists_and_is_listed(driver):
    post(driver, "lazy")
    assert driver.queues.exists("lazy", P)
    assert driver.queues.get_metadata("lazy", P) == {}
    assert [entry.name for entry in driver.queues.list(P)] == ["lazy"]
    assert driver.queues.count(P) == 1


def test_queue_list_pages_by_name_with_markers(driver):
    for name in ["c", "a", "e", "b", "d"]:
        driver.queues.create(name, P, {"name": name})
    first = driver.queues.list(P, limit=2)
    assert [q.name for q in first] == ["a", "b"]
    assert first[0].metadata is None
    second = driver.queues.list(P, marker="b", limit=2, detailed=True)
    assert [(q.name, q.metadata) for q in second] == [("c", {"name": "c"}),
                                                      ("d", {"name": "d"})]
    assert [q.name for q in driver.queues.list(P, marker="d")] == ["e"]
    assert driver.queues.list(P, marker="e") == []
    assert driver.queues.count(P) == 5


def test_same_queue_name_in_two_projects_is_two_queues(driver):
    driver.queues.create("q", P, {"owner": P})
    driver.queues.create("q", OTHER, {"owner": OTHER})
    post(driver, "q", 2, project=P)
    assert driver.queues.get_metadata("q", OTHER) == {"owner": OTHER}
    assert driver.messages.list("q", OTHER, CLIENT, echo=True) == []
    assert driver.queues.stats("q", OTHER).total == 0
    assert driver.claims.create("q", OTHER, 60, 60, 10) is None
    driver.queues.delete("q", OTHER)
    assert len(driver.messages.list("q", P, CLIENT, echo=True)) == 2
    assert [q.name for q in driver.queues.list(OTHER)] == []


def test_message_ids_do_not_cross_projects(driver):
    [mid] = post(driver, "q", 1, project=P)
    with pytest.raises(errors.MessageDoesNotExist):
        driver.messages.get("q", OTHER, mid)
    assert driver.messages.bulk_get("q", OTHER, [mid]) == []
    driver.messages.delete("q", OTHER, mid)
    driver.messages.bulk_delete("q", OTHER, [mid])
    assert driver.messages.get("q", P, mid).id == mid


# -- message ids ----------------------------------------------------------------------
# Each queue numbers its own messages: an id tells nothing of other queues' traffic.

def as_numbers(ids):
    return [int(i) for i in ids]


def test_ids_of_a_queue_are_unaffected_by_posts_to_other_queues(driver):
    first = post(driver, "q", 2)
    post(driver, "q", 5, project=OTHER)
    post(driver, "other", 3)
    then = post(driver, "q", 2)
    assert as_numbers(then) == [int(first[-1]) + 1, int(first[-1]) + 2]
    # A new queue numbers from the same start, whatever was posted elsewhere.
    assert post(driver, "new", 3, project=OTHER) == post(driver, "new", 3)


def test_fifo_and_markers_hold_with_posts_to_other_queues_interleaved(driver):
    mine, theirs = [], []
    for _ in range(4):
        mine += post(driver, "q", 2)
        theirs += post(driver, "q", 3, project=OTHER)
        post(driver, "q2", 1)
    pages, marker = [], None
    while page := driver.messages.list("q", P, CLIENT, echo=True, limit=3, marker=marker):
        pages += [m.id for m in page]
        marker = page[-1].id
    assert pages == mine
    assert as_numbers(mine) == sorted(as_numbers(mine))
    assert [m.id for m in driver.messages.list("q", OTHER, CLIENT, echo=True, limit=20)] \
        == theirs
    assert [m.id for m in driver.claims.create("q", P, 60, 60, 3).messages] == mine[:3]


def test_a_deleted_messages_id_still_pages_and_a_malformed_marker_starts_over(driver):
    ids = post(driver, "q", 4)
    driver.messages.delete("q", P, ids[1])
    listed = driver.messages.list
    assert [m.id for m in listed("q", P, CLIENT, echo=True, marker=ids[1])] == ids[2:]
    assert [m.id for m in listed("q", P, CLIENT, echo=True, marker="not-an-id")] \
        == [ids[0], *ids[2:]]


@pytest.mark.parametrize("make_again", ["create", "post"])
def test_a_queue_deleted_and_made_again_does_not_reissue_ids(driver, make_again):
    old = post(driver, "q", 3)
    driver.messages.delete("q", P, old[-1])  # the newest id is held all the same
    for _ in range(2):  # and again: each deletion hands its count on
        driver.queues.delete("q", P)
        if make_again == "create":
            assert driver.queues.create("q", P) is True
        new = post(driver, "q", 2)
        assert min(as_numbers(new)) > max(as_numbers(old))
        old = new
    with pytest.raises(errors.MessageDoesNotExist):
        driver.messages.get("q", P, "1")


def test_a_purged_queue_does_not_reissue_ids(driver):
    old = post(driver, "q", 3)
    driver.purge_messages("q", P)
    assert min(as_numbers(post(driver, "q", 1))) > max(as_numbers(old))


# -- messages -------------------------------------------------------------------------

def test_post_creates_the_queue_and_keeps_fifo_order(driver):
    ids = post(driver, "lazy", 5)
    assert driver.queues.exists("lazy", P)
    listed = driver.messages.list("lazy", P, CLIENT, echo=True, limit=10)
    assert [m.id for m in listed] == ids
    assert [m.body for m in listed] == [{"n": i} for i in range(5)]
    more = post(driver, "lazy", 2)
    assert [m.id for m in driver.messages.list("lazy", P, CLIENT, echo=True)] == ids + more


def test_list_pages_with_stable_markers(driver):
    ids = post(driver, "q", 7)
    page1 = driver.messages.list("q", P, CLIENT, echo=True, limit=3)
    page2 = driver.messages.list("q", P, CLIENT, echo=True, limit=3, marker=page1[-1].id)
    page3 = driver.messages.list("q", P, CLIENT, echo=True, limit=3, marker=page2[-1].id)
    assert [m.id for m in page1 + page2 + page3] == ids
    assert driver.messages.list("q", P, CLIENT, echo=True, marker=page3[-1].id) == []


def test_echo_hides_a_clients_own_messages(driver):
    post(driver, "q", 2, client=CLIENT)
    post(driver, "q", 1, client=OTHER_CLIENT)
    assert len(driver.messages.list("q", P, CLIENT)) == 1
    assert len(driver.messages.list("q", P, CLIENT, echo=True)) == 3


def test_include_claimed_and_include_delayed(driver, clock):
    post(driver, "q", 2)
    post(driver, "q", 1, delay=30)
    claim = driver.claims.create("q", P, 60, 60, 1)
    assert len(claim.messages) == 1
    assert len(driver.messages.list("q", P, CLIENT, echo=True)) == 1
    assert len(driver.messages.list("q", P, CLIENT, echo=True, include_claimed=True)) == 2
    assert len(driver.messages.list("q", P, CLIENT, echo=True, include_claimed=True,
                                    include_delayed=True)) == 3
    listed = driver.messages.list("q", P, CLIENT, echo=True, include_claimed=True)
    assert listed[0].claim_id == claim.id and listed[1].claim_id is None
    clock.advance(31)
    assert len(driver.messages.list("q", P, CLIENT, echo=True)) == 2


def test_list_of_a_missing_queue_is_empty(driver):
    assert driver.messages.list("missing", P, CLIENT, echo=True) == []


def test_get_one_and_many(driver):
    ids = post(driver, "q", 3)
    got = driver.messages.get("q", P, ids[1])
    assert (got.id, got.body, got.ttl) == (ids[1], {"n": 1}, 300)
    assert [m.id for m in driver.messages.bulk_get("q", P, [ids[2], ids[0], "nope", "999999"])] \
        == [ids[0], ids[2]]
    for bad in ("999999", "not-an-id", ""):
        with pytest.raises(errors.MessageDoesNotExist):
            driver.messages.get("q", P, bad)


def test_delete_one_and_many(driver):
    ids = post(driver, "q", 4)
    driver.messages.delete("q", P, ids[0])
    driver.messages.delete("q", P, ids[0])  # again: no error
    driver.messages.bulk_delete("q", P, [ids[1], ids[2], "junk"])
    assert [m.id for m in driver.messages.list("q", P, CLIENT, echo=True)] == [ids[3]]


def test_delete_of_a_claimed_message_needs_its_live_claim(driver, clock):
    ids = post(driver, "q", 2)
    claim = driver.claims.create("q", P, 60, 60, 1)
    with pytest.raises(errors.MessageIsClaimed):
        driver.messages.delete("q", P, ids[0])
    with pytest.raises(errors.MessageNotClaimedBy):
        driver.messages.delete("q", P, ids[0], claim_id="0" * 32)
    with pytest.raises(errors.MessageNotClaimed):
        driver.messages.delete("q", P, ids[1], claim_id=claim.id)
    driver.messages.delete("q", P, ids[0], claim_id=claim.id)
    with pytest.raises(errors.MessageDoesNotExist):
        driver.messages.get("q", P, ids[0])


def test_delete_with_an_expired_claim_is_refused(driver, clock):
    [mid] = post(driver, "q", 1)
    claim = driver.claims.create("q", P, 60, 60, 1)
    clock.advance(61)
    with pytest.raises(errors.MessageNotClaimed):
        driver.messages.delete("q", P, mid, claim_id=claim.id)
    driver.messages.delete("q", P, mid)
    assert driver.messages.bulk_get("q", P, [mid]) == []


def test_bulk_delete_with_claim_ids_is_all_or_nothing(driver):
    ids = post(driver, "q", 3)
    claim = driver.claims.create("q", P, 60, 60, 2)
    with pytest.raises(errors.MessageNotClaimed):
        driver.messages.bulk_delete("q", P, ids, claim_ids=[claim.id])
    assert len(driver.messages.bulk_get("q", P, ids)) == 3
    with pytest.raises(errors.MessageNotClaimedBy):
        driver.messages.bulk_delete("q", P, ids[:2], claim_ids=["f" * 32])
    driver.messages.bulk_delete("q", P, ids[:2], claim_ids=[claim.id])
    assert [m.id for m in driver.messages.bulk_get("q", P, ids)] == [ids[2]]


def test_pop_removes_the_oldest_free_messages(driver):
    ids = post(driver, "q", 5)
    driver.claims.create("q", P, 60, 60, 1)
    popped = driver.messages.pop("q", P, 2)
    assert [m.id for m in popped] == ids[1:3]
    assert [m.id for m in driver.messages.list("q", P, CLIENT, echo=True,
                                               include_claimed=True)] == [ids[0], ids[3], ids[4]]
    assert driver.messages.pop("missing", P, 3) == []


def test_message_ttl_expiry_is_immediate(driver, clock):
    [short] = post(driver, "q", 1, ttl=60)
    [long] = post(driver, "q", 1, ttl=120)
    clock.advance(61)
    assert [m.id for m in driver.messages.list("q", P, CLIENT, echo=True)] == [long]
    with pytest.raises(errors.MessageDoesNotExist):
        driver.messages.get("q", P, short)
    assert driver.queues.stats("q", P).total == 1
    assert driver.claims.create("q", P, 60, 60, 10).messages[0].id == long


# -- claims ---------------------------------------------------------------------------

def test_claim_takes_oldest_free_messages_up_to_limit(driver, clock):
    ids = post(driver, "q", 5)
    first = driver.claims.create("q", P, 100, 60, 2)
    second = driver.claims.create("q", P, 100, 60, 10)
    assert [m.id for m in first.messages] == ids[:2]
    assert [m.id for m in second.messages] == ids[2:]
    assert first.id != second.id
    assert driver.claims.create("q", P, 100, 60, 10) is None


def test_claim_of_a_missing_or_empty_queue_is_none(driver):
    assert driver.claims.create("missing", P, 60, 60, 10) is None
    driver.queues.create("empty", P)
    assert driver.claims.create("empty", P, 60, 60, 10) is None


def test_claim_skips_delayed_messages(driver, clock):
    post(driver, "q", 1, delay=60)
    assert driver.claims.create("q", P, 60, 60, 10) is None
    clock.advance(60)
    assert len(driver.claims.create("q", P, 60, 60, 10).messages) == 1


def test_claim_get_update_delete(driver, clock):
    ids = post(driver, "q", 3)
    claim = driver.claims.create("q", P, 100, 60, 2)
    got = driver.claims.get("q", P, claim.id)
    assert (got.ttl, got.grace, [m.id for m in got.messages]) == (100, 60, ids[:2])
    clock.advance(90)
    driver.claims.update("q", P, claim.id, 200, 100)
    clock.advance(150)
    assert driver.claims.get("q", P, claim.id).ttl == 200
    assert driver.claims.create("q", P, 60, 60, 10).messages[0].id == ids[2]
    driver.claims.delete("q", P, claim.id)
    with pytest.raises(errors.ClaimDoesNotExist):
        driver.claims.get("q", P, claim.id)
    assert [m.id for m in driver.messages.list("q", P, CLIENT, echo=True)] == ids[:2]
    driver.claims.delete("q", P, claim.id)  # again: no error


def test_expired_claim_frees_its_messages(driver, clock):
    ids = post(driver, "q", 2)
    claim = driver.claims.create("q", P, 60, 60, 10)
    clock.advance(61)
    with pytest.raises(errors.ClaimDoesNotExist):
        driver.claims.get("q", P, claim.id)
    with pytest.raises(errors.ClaimDoesNotExist):
        driver.claims.update("q", P, claim.id, 60, 60)
    again = driver.claims.create("q", P, 60, 60, 10)
    assert [m.id for m in again.messages] == ids
    assert all(m.claim_count == 2 for m in again.messages)


def test_claim_grace_keeps_messages_alive_past_their_ttl(driver, clock):
    [mid] = post(driver, "q", 1, ttl=60)
    driver.claims.create("q", P, 100, 100, 1)
    clock.advance(150)  # past the message ttl, within claim ttl + grace
    assert driver.messages.get("q", P, mid).ttl >= 200
    clock.advance(51)
    with pytest.raises(errors.MessageDoesNotExist):
        driver.messages.get("q", P, mid)


def test_claims_are_scoped_to_their_queue(driver):
    post(driver, "q", 1)
    claim = driver.claims.create("q", P, 60, 60, 1)
    with pytest.raises(errors.ClaimDoesNotExist):
        driver.claims.get("other", P, claim.id)
    with pytest.raises(errors.ClaimDoesNotExist):
        driver.claims.get("q", OTHER, claim.id)
    driver.claims.delete("q", OTHER, claim.id)
    assert driver.claims.get("q", P, claim.id).id == claim.id


# -- stats and purge ------------------------------------------------------------------

def test_stats_counts_free_and_claimed_with_oldest_and_newest(driver, clock):
    assert driver.queues.stats("missing", P).total == 0
    ids = post(driver, "q", 3)
    clock.advance(5)
    last = post(driver, "q", 1)
    driver.claims.create("q", P, 60, 60, 2)
    stats = driver.queues.stats("q", P)
    assert (stats.free, stats.claimed, stats.total) == (2, 2, 4)
    assert stats.oldest.id == ids[0] and stats.newest.id == last[0]
    assert stats.newest.created - stats.oldest.created == pytest.approx(5)
    driver.queues.create("empty", P)
    empty = driver.queues.stats("empty", P)
    assert (empty.total, empty.oldest, empty.newest) == (0, None, None)


def test_purge_messages_keeps_the_queue(driver):
    driver.queues.create("q", P, {"keep": True})
    post(driver, "q", 3)
    driver.claims.create("q", P, 60, 60, 1)
    driver.purge_messages("q", P)
    assert driver.queues.get_metadata("q", P) == {"keep": True}
    assert driver.queues.stats("q", P).total == 0


# -- subscriptions --------------------------------------------------------------------

def test_subscription_crud(driver, clock):
    sid = driver.subscriptions.create("q", P, "http://example.com/hook", 600, {"a": 1})
    got = driver.subscriptions.get("q", P, sid)
    assert (got.source, got.subscriber, got.ttl, got.options, got.confirmed) == \
        ("q", "http://example.com/hook", 600, {"a": 1}, False)
    with pytest.raises(errors.SubscriptionAlreadyExists):
        driver.subscriptions.create("q", P, "http://example.com/hook", 600, {})
    driver.subscriptions.update("q", P, sid, {"ttl": 900, "options": {"b": 2}})
    driver.subscriptions.confirm("q", P, sid, True)
    got = driver.subscriptions.get("q", P, sid)
    assert (got.ttl, got.options, got.confirmed) == (900, {"b": 2}, True)
    driver.subscriptions.delete("q", P, sid)
    with pytest.raises(errors.SubscriptionDoesNotExist):
        driver.subscriptions.get("q", P, sid)
    with pytest.raises(errors.SubscriptionDoesNotExist):
        driver.subscriptions.update("q", P, sid, {"ttl": 60})
    with pytest.raises(errors.SubscriptionDoesNotExist):
        driver.subscriptions.confirm("q", P, sid, True)


def test_subscription_update_to_a_taken_subscriber_conflicts(driver):
    driver.subscriptions.create("q", P, "http://a.example", 600, {})
    sid = driver.subscriptions.create("q", P, "http://b.example", 600, {})
    with pytest.raises(errors.SubscriptionAlreadyExists):
        driver.subscriptions.update("q", P, sid, {"subscriber": "http://a.example"})
    assert driver.subscriptions.get("q", P, sid).subscriber == "http://b.example"


def test_subscription_list_pages_and_isolation(driver):
    made = sorted(driver.subscriptions.create("q", P, f"http://h{i}.example", 600, {})
                  for i in range(5))
    driver.subscriptions.create("q", OTHER, "http://h0.example", 600, {})
    page = driver.subscriptions.list("q", P, limit=3)
    rest = driver.subscriptions.list("q", P, marker=page[-1].id, limit=3)
    assert [s.id for s in page + rest] == made
    assert len(driver.subscriptions.list("q", OTHER)) == 1
    with pytest.raises(errors.SubscriptionDoesNotExist):
        driver.subscriptions.get("q", OTHER, made[0])


def test_subscription_expires_and_can_be_made_again(driver, clock):
    sid = driver.subscriptions.create("q", P, "mailto:a@example.com", 60, {})
    clock.advance(61)
    with pytest.raises(errors.SubscriptionDoesNotExist):
        driver.subscriptions.get("q", P, sid)
    assert driver.subscriptions.list("q", P) == []
    assert driver.subscriptions.create("q", P, "mailto:a@example.com", 60, {}) != sid


def test_subscription_purge(driver):
    driver.subscriptions.create("q", P, "http://a.example", 600, {})
    driver.subscriptions.create("q2", P, "http://a.example", 600, {})
    driver.subscriptions.purge("q", P)
    assert driver.subscriptions.list("q", P) == []
    assert len(driver.subscriptions.list("q2", P)) == 1


def test_new_subscription_delivers_from_the_queues_newest_message(driver):
    assert driver.subscriptions.get("q", P, driver.subscriptions.create(
        "q", P, "http://a.example", 600, {})).delivery.cursor is None
    *_, newest = post(driver, "q", 3)
    sid = driver.subscriptions.create("q", P, "http://b.example", 600, {}, notice="confirm")
    got = driver.subscriptions.get("q", P, sid)
    assert (got.delivery.cursor, got.delivery.notice, got.delivery.record) == \
        (newest, "confirm", {})
    assert [m.id for m in driver.messages.list("q", P, CLIENT, marker=got.delivery.cursor,
                                               echo=True)] == []
    [later] = post(driver, "q", 1)
    assert [m.id for m in driver.messages.list("q", P, CLIENT, marker=got.delivery.cursor,
                                               echo=True)] == [later]


def test_subscription_find_by_subscriber(driver, clock):
    sid = driver.subscriptions.create("q", P, "http://a.example/x?y=1", 60, {})
    found = driver.subscriptions.find("q", P, "http://a.example/x?y=1")
    assert found is not None and (found.id, found.project) == (sid, P)
    assert driver.subscriptions.find("q", OTHER, "http://a.example/x?y=1") is None
    assert driver.subscriptions.find("q", P, "http://b.example") is None
    clock.advance(61)
    assert driver.subscriptions.find("q", P, "http://a.example/x?y=1") is None


def test_delivery_cursor_record_and_notice_are_kept_apart(driver):
    sid = driver.subscriptions.create("q", P, "http://a.example", 600, {}, notice="confirm")
    driver.subscriptions.record_delivery("q", P, sid, "7", {"attempts": 3, "last_error": "x"})
    got = driver.subscriptions.get("q", P, sid)
    assert (got.delivery.cursor, got.delivery.notice, got.delivery.record) == \
        ("7", "confirm", {"attempts": 3, "last_error": "x"})
    driver.subscriptions.set_notice("q", P, sid, None)
    driver.subscriptions.update("q", P, sid, {"ttl": 900, "options": {"b": 2}})
    driver.subscriptions.confirm("q", P, sid, True)
    got = driver.subscriptions.get("q", P, sid)
    assert (got.delivery.cursor, got.delivery.notice, got.delivery.record) == \
        ("7", None, {"attempts": 3, "last_error": "x"})
    driver.subscriptions.set_notice("q", P, sid, "unsubscribe")
    driver.subscriptions.record_delivery("q", P, sid, None, {})
    got = driver.subscriptions.get("q", P, sid)
    assert (got.delivery.cursor, got.delivery.notice, got.delivery.record) == \
        (None, "unsubscribe", {})
    driver.subscriptions.delete("q", P, sid)
    with pytest.raises(errors.SubscriptionDoesNotExist):
        driver.subscriptions.record_delivery("q", P, sid, "8", {})
    with pytest.raises(errors.SubscriptionDoesNotExist):
        driver.subscriptions.set_notice("q", P, sid, "confirm")


def test_list_all_spans_queues_and_projects_and_leaves_out_the_dead(driver, clock):
    made = {driver.subscriptions.create("q", P, "http://a.example", 600, {}): ("q", P),
            driver.subscriptions.create("q2", P, "http://a.example", 600, {}): ("q2", P),
            driver.subscriptions.create("q", OTHER, "http://a.example", 600, {}): ("q", OTHER)}
    short = driver.subscriptions.create("q3", P, "http://a.example", 60, {})
    gone = driver.subscriptions.create("q4", P, "http://a.example", 600, {})
    driver.subscriptions.create("q5", OTHER, "http://a.example", 600, {})
    driver.subscriptions.delete("q4", P, gone)
    driver.subscriptions.purge("q5", OTHER)
    assert {s.id for s in driver.subscriptions.list_all()} == {*made, short}
    clock.advance(61)
    everything = driver.subscriptions.list_all()
    assert [s.id for s in everything] == sorted(made)
    assert {s.id: (s.source, s.project) for s in everything} == made
    first = driver.subscriptions.list_all(limit=2)
    rest = driver.subscriptions.list_all(marker=first[-1].id, limit=2)
    assert [s.id for s in first + rest] == sorted(made)


# -- housekeeping ---------------------------------------------------------------------

def test_garbage_collection_removes_only_expired_rows(driver, clock):
    post(driver, "q", 3, ttl=60)
    [keep] = post(driver, "q", 1, ttl=600)
    driver.subscriptions.create("q", P, "http://a.example", 60, {})
    clock.advance(61)
    driver.claims.create("q", P, 60, 60, 1)
    clock.advance(61)
    removed = driver.collect_garbage()
    assert removed == 5  # 3 messages, 1 claim, 1 subscription
    assert [m.id for m in driver.messages.list("q", P, CLIENT, echo=True)] == [keep]
    assert driver.collect_garbage() == 0


def test_driver_reports_alive(driver):
    assert driver.is_alive() is True
