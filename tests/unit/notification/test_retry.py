"""Upstream's retry policy: which one applies, and its delays (the same whole seconds as
upstream's backoff functions give)."""
import pytest

from zaqar.notification import retry


def test_defaults_give_fifteen_attempts_over_three_minutes():
    delays = retry.delays(retry.choose(None, None))
    assert delays == [0, 0, 0, 5, 5, 5, 5, 10, 15, 20, 25, 30, 30, 30]
    assert (len(delays) + 1, sum(delays)) == (15, 180)


@pytest.mark.parametrize(("function", "low", "high", "expected"), [
    ("linear", 5, 30, [5, 10, 15, 20, 25]),
    ("arithmetic", 5, 30, [5, 7, 12, 20, 30]),
    ("geometric", 5, 30, [5, 7, 12, 19, 30]),
    ("exponential", 5, 30, [5, 7, 12, 19, 30]),
    ("geometric", 1, 11, [1, 10]),  # upstream's log10 rounding, kept
    ("arithmetic", 2, 40, [2, 3, 7, 12, 20, 29, 40]),
])
def test_backoff_functions_give_upstreams_delays(function, low, high, expected):
    assert retry.backoff(function, low, high) == expected


def test_subscription_policy_wins_unless_either_forbids_overrides():
    mine, queue = {"minimum_delay": 1}, {"minimum_delay": 7, "maximum_delay": 20}
    assert retry.choose(mine, queue)["minimum_delay"] == 1
    assert retry.choose(mine, queue)["maximum_delay"] == 30  # mine's default, not queue's
    assert retry.choose({}, queue)["minimum_delay"] == 7
    assert retry.choose(mine, {**queue, "ignore_subscription_override": True}
                        )["minimum_delay"] == 7
    assert retry.choose({**mine, "ignore_subscription_override": True}, queue
                        )["minimum_delay"] == 7


def test_null_keys_take_their_defaults():
    policy = retry.choose({"retries_with_no_delay": None, "minimum_delay": 2}, None)
    assert (policy["retries_with_no_delay"], policy["minimum_delay"]) == (3, 2)
