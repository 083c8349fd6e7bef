"""Delivery leases (SubscriptionController.acquire_delivery_lease and
release_delivery_lease) on every engine: one holder at a time, renewed by its holder,
free once its time is up (the driver's clock) or released, and exactly one winner among
racing drivers of one store."""
import threading

import pytest

from tests.storage.test_contract import Clock
from zaqar.storage import errors, load_driver

P = "project-lease"
SECONDS = 30.0
RACERS = 6


@pytest.fixture
def clock(driver, monkeypatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(driver, "clock", fake)
    return fake


def subscribed(driver, queue: str = "q") -> str:
    return driver.subscriptions.create(queue, P, "http://127.0.0.1:9/hook", 3600, {})


def test_a_held_lease_is_not_given_to_another_holder(driver, clock):
    subscription = subscribed(driver)
    leases = driver.subscriptions
    assert leases.acquire_delivery_lease("q", P, subscription, "node-a", SECONDS)
    assert not leases.acquire_delivery_lease("q", P, subscription, "node-b", SECONDS)
    clock.advance(SECONDS - 1)
    assert not leases.acquire_delivery_lease("q", P, subscription, "node-b", SECONDS)


def test_the_holder_renews_its_lease(driver, clock):
    subscription = subscribed(driver)
    leases = driver.subscriptions
    assert leases.acquire_delivery_lease("q", P, subscription, "node-a", SECONDS)
    clock.advance(SECONDS - 1)
    assert leases.acquire_delivery_lease("q", P, subscription, "node-a", SECONDS)
    clock.advance(SECONDS - 1)  # past the first end, before the renewed one
    assert not leases.acquire_delivery_lease("q", P, subscription, "node-b", SECONDS)


def test_a_lease_whose_time_is_up_goes_to_another_holder(driver, clock):
    subscription = subscribed(driver)
    leases = driver.subscriptions
    assert leases.acquire_delivery_lease("q", P, subscription, "node-a", SECONDS)
    clock.advance(SECONDS)
    assert leases.acquire_delivery_lease("q", P, subscription, "node-b", SECONDS)
    assert not leases.acquire_delivery_lease("q", P, subscription, "node-a", SECONDS)


def test_a_released_lease_is_free_at_once(driver, clock):
    subscription = subscribed(driver)
    leases = driver.subscriptions
    assert leases.acquire_delivery_lease("q", P, subscription, "node-a", SECONDS)
    leases.release_delivery_lease("q", P, subscription, "node-a")
    assert leases.acquire_delivery_lease("q", P, subscription, "node-b", SECONDS)


def test_only_the_holder_releases_a_lease(driver, clock):
    subscription = subscribed(driver)
    leases = driver.subscriptions
    assert leases.acquire_delivery_lease("q", P, subscription, "node-a", SECONDS)
    leases.release_delivery_lease("q", P, subscription, "node-b")
    assert not leases.acquire_delivery_lease("q", P, subscription, "node-b", SECONDS)


def test_releasing_what_is_not_held_or_gone_is_no_error(driver, clock):
    subscription = subscribed(driver)
    leases = driver.subscriptions
    leases.release_delivery_lease("q", P, subscription, "node-a")
    leases.release_delivery_lease("q", P, "0" * 32, "node-a")
    leases.release_delivery_lease("elsewhere", P, subscription, "node-a")
    assert leases.acquire_delivery_lease("q", P, subscription, "node-a", SECONDS)


def test_leases_of_subscriptions_are_independent(driver, clock):
    first, second = subscribed(driver, "q1"), subscribed(driver, "q2")
    leases = driver.subscriptions
    assert leases.acquire_delivery_lease("q1", P, first, "node-a", SECONDS)
    assert leases.acquire_delivery_lease("q2", P, second, "node-b", SECONDS)


def test_a_missing_or_expired_subscription_has_no_lease(driver, clock):
    leases = driver.subscriptions
    with pytest.raises(errors.SubscriptionDoesNotExist):
        leases.acquire_delivery_lease("q", P, "0" * 32, "node-a", SECONDS)
    subscription = subscribed(driver)
    with pytest.raises(errors.SubscriptionDoesNotExist):
        leases.acquire_delivery_lease("q", "another-project", subscription, "node-a",
                                      SECONDS)
    clock.advance(3600)
    with pytest.raises(errors.SubscriptionDoesNotExist):
        leases.acquire_delivery_lease("q", P, subscription, "node-a", SECONDS)


def test_the_lease_leaves_the_subscription_as_it_was(driver, clock):
    subscription = subscribed(driver)
    driver.subscriptions.record_delivery("q", P, subscription, "7", {"delivered": 1})
    before = driver.subscriptions.get("q", P, subscription)
    driver.subscriptions.acquire_delivery_lease("q", P, subscription, "node-a", SECONDS)
    assert driver.subscriptions.get("q", P, subscription) == before
    driver.subscriptions.release_delivery_lease("q", P, subscription, "node-a")
    assert driver.subscriptions.get("q", P, subscription) == before


@pytest.mark.parametrize("expired", [False, True], ids=["free", "expired"])
def test_racing_drivers_of_one_store_give_the_lease_to_exactly_one(driver, expired):
    """Each racer has a driver (and connections) of its own, as separate notifier
    processes would; all wait behind a barrier, then ask at once."""
    subscription = subscribed(driver)
    if expired:  # held by a holder whose time is up (a lease of no time)
        assert driver.subscriptions.acquire_delivery_lease("q", P, subscription, "gone", 0)
    racers = [load_driver(driver.conf) for _ in range(RACERS)]
    barrier = threading.Barrier(RACERS)
    won: list[str] = []
    failures: list[BaseException] = []

    def race(index: int) -> None:
        try:
            barrier.wait(timeout=30)
            if racers[index].subscriptions.acquire_delivery_lease(
                    "q", P, subscription, f"racer-{index}", SECONDS):
                won.append(f"racer-{index}")
        except BaseException as error:  # reported below, with the racer's traceback
            failures.append(error)

    threads = [threading.Thread(target=race, args=(index,)) for index in range(RACERS)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    finally:
        for racer in racers:
            racer.close()
    assert failures == []
    assert len(won) == 1, won
    # The winner holds it: nobody else gets it, it renews it.
    assert not driver.subscriptions.acquire_delivery_lease("q", P, subscription, "late",
                                                           SECONDS)
    assert driver.subscriptions.acquire_delivery_lease("q", P, subscription, won[0],
                                                       SECONDS)
