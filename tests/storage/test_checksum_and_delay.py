"""Checksums and delayed messages on every engine: a checksum given at post comes back
on every read; a delayed message is listed, claimed and popped only once its delay has
passed (the api layer computes checksums and defaults delays: tests/unit/api)."""
import pytest

from tests.storage.test_contract import CLIENT, Clock, P
from zaqar.storage.base import NewMessage

CHECKSUM = "MD5:0cc175b9c0f1b6a831c399e269772661"


@pytest.fixture
def clock(driver, monkeypatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(driver, "clock", fake)
    return fake


def post(driver, *messages):
    return driver.messages.post("q", P, list(messages), CLIENT)


def test_a_checksum_comes_back_on_every_read(driver):
    [with_sum, without] = post(driver, NewMessage(body="a", ttl=300, checksum=CHECKSUM),
                               NewMessage(body="b", ttl=300))
    listed = driver.messages.list("q", P, CLIENT, echo=True)
    assert [msg.checksum for msg in listed] == [CHECKSUM, None]
    assert driver.messages.get("q", P, with_sum).checksum == CHECKSUM
    assert [m.checksum for m in driver.messages.bulk_get("q", P, [with_sum, without])] == [
        CHECKSUM, None]
    stats = driver.queues.stats("q", P)
    assert (stats.oldest.checksum, stats.newest.checksum) == (CHECKSUM, None)
    claim = driver.claims.create("q", P, 60, 60, 1)
    assert [msg.checksum for msg in claim.messages] == [CHECKSUM]
    assert [msg.checksum for msg in driver.claims.get("q", P, claim.id).messages] == [CHECKSUM]
    assert [msg.checksum for msg in driver.messages.pop("q", P, 5)] == [None]


def test_a_delayed_message_is_hidden_until_its_delay_passes(driver, clock):
    [delayed] = post(driver, NewMessage(body="later", ttl=300, delay=30))
    [now] = post(driver, NewMessage(body="now", ttl=300))

    assert [m.id for m in driver.messages.list("q", P, CLIENT, echo=True)] == [now]
    assert [m.id for m in driver.messages.list("q", P, CLIENT, echo=True,
                                               include_delayed=True)] == [delayed, now]
    assert driver.messages.get("q", P, delayed).body == "later"  # by id: found
    assert driver.queues.stats("q", P).free == 2  # counted free, as upstream

    claim = driver.claims.create("q", P, 60, 60, 10)
    assert [m.id for m in claim.messages] == [now]
    assert driver.messages.pop("q", P, 10) == []
    assert driver.claims.create("q", P, 60, 60, 10) is None

    clock.advance(30)
    assert [m.id for m in driver.messages.list("q", P, CLIENT, echo=True)] == [delayed]
    assert [m.id for m in driver.messages.pop("q", P, 10)] == [delayed]


def test_a_delayed_message_is_claimable_once_visible(driver, clock):
    [delayed] = post(driver, NewMessage(body="later", ttl=300, delay=10))
    assert driver.claims.create("q", P, 60, 60, 10) is None
    clock.advance(10)
    claim = driver.claims.create("q", P, 60, 60, 10)
    assert [m.id for m in claim.messages] == [delayed]


def test_the_ttl_of_a_delayed_message_counts_from_its_post(driver, clock):
    [delayed] = post(driver, NewMessage(body="later", ttl=100, delay=60))
    assert driver.messages.get("q", P, delayed).ttl == 100
    clock.advance(100)
    assert driver.messages.bulk_get("q", P, [delayed]) == []
