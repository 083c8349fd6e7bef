"""Upstream's ``_retry_policy`` of webhook notifications: which policy applies, and the
delays between the attempts it allows.

After a failed first attempt come ``retries_with_no_delay`` immediate attempts, then
``minimum_delay_retries`` attempts ``minimum_delay`` seconds apart, then one attempt
after each delay of the backoff function (from ``minimum_delay`` up to
``maximum_delay``, a step per BACKOFF_STEP seconds of the span), then
``maximum_delay_retries`` attempts ``maximum_delay`` seconds apart; then the message is
given up. The policy of the subscription's options wins over the queue's metadata,
unless either sets ``ignore_subscription_override``.
"""
import math
from typing import Any

from zaqar.api.validation import DEFAULT_MAXIMUM_DELAY, DEFAULT_MINIMUM_DELAY

DEFAULTS: dict[str, Any] = {
    "retries_with_no_delay": 3,
    "minimum_delay_retries": 3,
    "minimum_delay": DEFAULT_MINIMUM_DELAY,
    "maximum_delay": DEFAULT_MAXIMUM_DELAY,
    "maximum_delay_retries": 3,
    "retry_backoff_function": "linear",
}
BACKOFF_STEP = 5  # seconds of the delay span per backoff attempt (upstream's)


def choose(subscription_policy: Any, queue_policy: Any) -> dict[str, Any]:
    """The policy in force, with upstream's defaults for the keys it leaves out (or
    null). Policies were validated when stored (zaqar.api.validation.retry_policy)."""
    mine = subscription_policy if isinstance(subscription_policy, dict) else {}
    queue = queue_policy if isinstance(queue_policy, dict) else {}
    if mine.get("ignore_subscription_override") or queue.get("ignore_subscription_override"):
        chosen = queue
    else:
        chosen = mine or queue
    return {key: default if chosen.get(key) is None else chosen[key]
            for key, default in DEFAULTS.items()}


def delays(policy: dict[str, Any]) -> list[float]:
    """Seconds to wait before each retry, in order: as many as the retries allowed."""
    low = max(0, policy["minimum_delay"])
    high = max(low, policy["maximum_delay"])
    return ([0.0] * max(0, policy["retries_with_no_delay"])
            + [float(low)] * max(0, policy["minimum_delay_retries"])
            + [float(delay) for delay in backoff(policy["retry_backoff_function"], low, high)]
            + [float(high)] * max(0, policy["maximum_delay_retries"]))


def backoff(function: str, low: int, high: int) -> list[int]:
    """The backoff phase's delays: one per BACKOFF_STEP seconds of ``high - low``.

    linear: ``low``, then BACKOFF_STEP more each time, below ``high``. geometric and
    exponential (one series, computed two ways upstream): from ``low`` to about ``high``
    by a constant ratio. arithmetic: from ``low`` to ``high`` by steps growing by a
    constant amount. Whole seconds, rounded down, as upstream.
    """
    if function == "linear":
        return list(range(low, high, BACKOFF_STEP))
    count = (high - low) // BACKOFF_STEP
    if count < 2:
        return [low] * count
    # The ratio as upstream computes it (through log10), so that rounding down gives
    # the very delays upstream's give.
    start = max(low, 1)  # a ratio from 0 is no ratio
    ratio = math.pow(10, math.log10(high / start) / (count - 1))
    if function == "geometric":
        return [int(start * math.pow(ratio, step)) for step in range(count)]
    if function == "exponential":
        return [int(start / ratio * math.pow(ratio, step + 1)) for step in range(count)]
    increment = 2.0 * (high - low) / (count * (count - 1))
    return [int(low + step * (step + 1) * increment / 2) for step in range(count)]
