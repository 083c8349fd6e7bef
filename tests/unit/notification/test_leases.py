"""A notifier's delivery leases (zaqar.notification.leases) on a real SQLite store: two
notifiers never hold one subscription at once; a lease is renewed once a third of its
time has passed, not before; a notifier that lost its lease is told so."""
from collections.abc import Iterator

import pytest

from tests.conftest import make_conf
from tests.storage.test_contract import Clock
from zaqar.notification.leases import DeliveryLeases, LeaseLost
from zaqar.storage import load_driver
from zaqar.storage.base import DataDriver, Subscription

SECONDS = 30.0


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def driver(tmp_path, clock) -> Iterator[DataDriver]:
    found = load_driver(make_conf(tmp_path))
    found.prepare()
    found.clock = clock  # type: ignore[method-assign]
    yield found
    found.close()


@pytest.fixture
def subscription(driver) -> Subscription:
    subscription_id = driver.subscriptions.create("q", "p", "http://127.0.0.1:9/", 3600, {})
    return driver.subscriptions.get("q", "p", subscription_id)


def test_two_notifiers_never_hold_one_subscription(driver, clock, subscription):
    first, second = (DeliveryLeases(driver, SECONDS, clock) for _ in range(2))
    assert first.holder != second.holder
    assert first.take(subscription)
    assert not second.take(subscription)
    assert first.holds(subscription.id) and not second.holds(subscription.id)


def test_keep_renews_only_once_a_third_has_passed(driver, clock, subscription):
    mine, other = DeliveryLeases(driver, SECONDS, clock), DeliveryLeases(driver, SECONDS, clock)
    mine.take(subscription)
    clock.advance(SECONDS / 3 - 1)
    mine.keep(subscription)  # too early: the lease still ends at SECONDS
    clock.advance(SECONDS / 3 * 2 + 1)
    assert other.take(subscription)  # so it was free at SECONDS
    with pytest.raises(LeaseLost):
        mine.keep(subscription)
    assert not mine.holds(subscription.id)


def test_keep_after_a_third_pushes_the_end_on(driver, clock, subscription):
    mine, other = DeliveryLeases(driver, SECONDS, clock), DeliveryLeases(driver, SECONDS, clock)
    mine.take(subscription)
    clock.advance(SECONDS / 3)
    mine.keep(subscription)
    clock.advance(SECONDS * 2 / 3 + 1)  # past the first end
    assert not other.take(subscription)


def test_release_all_frees_every_lease_at_once(driver, clock, subscription):
    mine, other = DeliveryLeases(driver, SECONDS, clock), DeliveryLeases(driver, SECONDS, clock)
    mine.take(subscription)
    mine.release_all()
    assert mine.held() == []
    assert other.take(subscription)


def test_forget_drops_leases_of_subscriptions_gone(driver, clock, subscription):
    mine = DeliveryLeases(driver, SECONDS, clock)
    mine.take(subscription)
    mine.forget([subscription.id])
    assert not mine.holds(subscription.id)


def test_a_notifier_started_again_on_its_data_dir_takes_its_leases_back_at_once(
        driver, clock, subscription, tmp_path):
    crashed = DeliveryLeases(driver, SECONDS, clock, str(tmp_path / "node"))
    assert crashed.take(subscription)
    crashed.close()  # as its process ending would (the lock goes with it)
    again = DeliveryLeases(driver, SECONDS, clock, str(tmp_path / "node"))
    assert again.holder == crashed.holder
    assert again.take(subscription)  # no wait for the lease to expire
    elsewhere = DeliveryLeases(driver, SECONDS, clock, str(tmp_path / "other-node"))
    assert elsewhere.holder != crashed.holder and not elsewhere.take(subscription)


def test_live_notifiers_on_one_data_dir_never_share_a_name(driver, clock, subscription,
                                                          tmp_path):
    first = DeliveryLeases(driver, SECONDS, clock, str(tmp_path))
    second = DeliveryLeases(driver, SECONDS, clock, str(tmp_path))
    assert first.holder != second.holder
    assert first.take(subscription) and not second.take(subscription)
    second.close()
    first.close()


def test_a_data_dir_that_cannot_hold_the_name_gives_a_fresh_one(driver, clock, tmp_path):
    blocked = tmp_path / "file"
    blocked.write_text("")  # a file where the directory should be
    leases = DeliveryLeases(driver, SECONDS, clock, str(blocked / "data"))
    assert leases.holder and leases.holder != DeliveryLeases(driver, SECONDS, clock).holder
