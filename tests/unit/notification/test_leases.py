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
