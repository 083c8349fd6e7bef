"""Webhook delivery end to end: a real zaqar-server (with its notifier process) and real
HTTP receivers on loopback ports (tests/functional/receivers.py).

The server may deliver to loopback addresses only ([notification] allowed_destinations),
so nothing here ever reaches, or looks up, another host.
"""
import time
import uuid
from collections.abc import Iterator

import pytest

from tests.functional.conftest import Rest, running_server
from tests.functional.receivers import wait_until, webhook_receiver

NOTIFICATION = """
[notification]
allowed_destinations = 127.0.0.0/8, ::1
poll_interval = 0.2
"""
# Attempts 1 s, 1 s (minimum_delay_retries) and then 1 s and 6 s (linear backoff from
# 1 to 11 s) after one immediate retry: 5 attempts, the last about 9 s after the first.
FAST_POLICY = {"retries_with_no_delay": 1, "minimum_delay_retries": 1, "minimum_delay": 1,
               "maximum_delay": 11, "maximum_delay_retries": 0,
               "retry_backoff_function": "linear"}
FAST_POLICY_GAPS = [0, 1, 1, 6]
TIMING_SLACK = 0.6  # seconds a retry may come late on a busy machine (never early)


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator:
    with running_server(tmp_path_factory.mktemp("notifications"), NOTIFICATION) as running:
        yield running


@pytest.fixture
def rest(server) -> Iterator[Rest]:
    client = Rest(server.url)
    yield client
    client.close()


def subscribe(rest: Rest, queue: str, subscriber: str, **options) -> str:
    response = rest.post(f"/v2/queues/{queue}/subscriptions",
                         json={"subscriber": subscriber, "ttl": 3600, "options": options})
    assert response.status_code == 201, response.text
    return response.json()["subscription_id"]


def post(rest: Rest, queue: str, *bodies) -> None:
    response = rest.post(f"/v2/queues/{queue}/messages",
                         json={"messages": [{"body": body, "ttl": 300} for body in bodies]})
    assert response.status_code == 201, response.text


def delivery_record(rest: Rest, queue: str, subscription_id: str) -> dict:
    response = rest.get(f"/v2/queues/{queue}/subscriptions/{subscription_id}")
    assert response.status_code == 200, response.text
    return response.json()["delivery"]


def record_once_given_up(rest: Rest, queue: str, subscription_id: str) -> dict:
    """The delivery record, once it shows a message given up (within 10 s)."""
    return wait_until(lambda: delivery_record(rest, queue, subscription_id)
                      .get("given_up") == 1, 10, lambda: "no give-up recorded",
                      lambda: delivery_record(rest, queue, subscription_id))


def test_every_posted_message_arrives_in_order_as_upstream_sends_it(rest):
    with webhook_receiver() as hook:
        subscribe(rest, "orders", hook.url, post_headers={"X-Hook-Key": "k1"})
        for start in range(0, 30, 3):
            post(rest, "orders", *({"n": n} for n in range(start, start + 3)))
        arrived = hook.wait_for(30)
    assert [item.body["body"] for item in arrived] == [{"n": n} for n in range(30)]
    assert arrived[0].body == {"ttl": 300, "body": {"n": 0}, "Message_Type": "Notification",
                               "queue_name": "orders"}
    assert arrived[0].headers["Content-Type"] == "application/json"
    assert arrived[0].headers["X-Hook-Key"] == "k1"
    assert arrived[0].path == "/hook"


def test_post_data_template_wraps_the_notification(rest):
    with webhook_receiver() as hook:
        subscribe(rest, "templated", hook.url,
                  post_data='{"event": "zaqar", "payload": "$zaqar_message$"}')
        post(rest, "templated", "hello")
        [arrived] = hook.wait_for(1)
    assert arrived.body == {"event": "zaqar", "payload": {
        "ttl": 300, "body": "hello", "Message_Type": "Notification", "queue_name": "templated"}}


def test_only_messages_posted_after_subscribing_are_delivered(rest):
    post(rest, "late", "before")
    with webhook_receiver() as hook:
        subscribe(rest, "late", hook.url)
        post(rest, "late", "after")
        hook.wait_for(1)
        time.sleep(0.5)
        assert [body["body"] for body in hook.bodies()] == ["after"]


def test_failing_receiver_gets_the_message_after_the_policys_retries_and_delays(rest):
    with webhook_receiver(fail_first=4) as hook:
        subscription_id = subscribe(rest, "flaky", hook.url, _retry_policy=FAST_POLICY)
        post(rest, "flaky", {"n": 1})
        post(rest, "flaky", {"n": 2})
        arrived = hook.wait_for(6, timeout=30)
    times = [item.at for item in arrived[:5]]
    gaps = [later - earlier for earlier, later in zip(times, times[1:], strict=False)]
    for gap, expected in zip(gaps, FAST_POLICY_GAPS, strict=True):
        assert expected - 0.05 <= gap <= expected + TIMING_SLACK, (gaps, FAST_POLICY_GAPS)
    # The same message every time, until delivered; then the next one, in order.
    assert [item.body["body"] for item in arrived] == [{"n": 1}] * 5 + [{"n": 2}]
    record = delivery_record(rest, "flaky", subscription_id)
    assert (record["attempts"], record["delivered"], record.get("given_up", 0)) == (6, 2, 0)
    assert record["last_error"] == "The subscriber answered HTTP 500."


def test_receiver_that_never_succeeds_is_given_up_at_the_policys_limit(rest):
    with webhook_receiver(status=503) as hook:
        subscription_id = subscribe(rest, "down", hook.url, _retry_policy=FAST_POLICY)
        post(rest, "down", {"n": 1})
        first_five = hook.wait_for(5, timeout=30)
        time.sleep(3)  # nothing more comes for this message
        assert len(hook.received) == 5
        assert first_five[-1].at - first_five[0].at == pytest.approx(sum(FAST_POLICY_GAPS),
                                                                     abs=1.5)
        record = record_once_given_up(rest, "down", subscription_id)
        assert record["attempts"] == 5 and "503" in record["last_error"]
        hook.status = 200  # the next message is delivered: the cursor moved on
        post(rest, "down", {"n": 2})
        assert hook.wait_for(6)[-1].body["body"] == {"n": 2}


def test_queue_retry_policy_wins_when_it_forbids_overrides(rest):
    # No immediate retry: the second attempt waits minimum_delay, where the
    # subscription's own policy would have retried at once.
    queue_policy = {**FAST_POLICY, "retries_with_no_delay": 0,
                    "ignore_subscription_override": True}
    assert rest.put("/v2/queues/strict",
                    json={"_retry_policy": queue_policy}).status_code == 201
    with webhook_receiver(status=500) as hook:
        subscribe(rest, "strict", hook.url, _retry_policy=FAST_POLICY)
        post(rest, "strict", "x")
        first, second = hook.wait_for(2, timeout=10)
    assert 1 - 0.05 <= second.at - first.at <= 1 + TIMING_SLACK


def test_slow_receiver_delays_neither_posting_nor_other_subscribers(rest):
    with webhook_receiver(delay=3.0) as slow, webhook_receiver() as fast:
        subscribe(rest, "busy", slow.url)
        subscribe(rest, "busy", fast.url)
        started = time.monotonic()
        for n in range(5):
            post(rest, "busy", {"n": n})
        posting = time.monotonic() - started
        fast.wait_for(5, timeout=3)
        assert posting < 1.5
        assert len(slow.received) <= 1


def test_destination_outside_the_allow_list_is_recorded_and_never_sent(rest):
    by_name = subscribe(rest, "guarded", "http://trigger.me/" + uuid.uuid4().hex)
    by_address = subscribe(rest, "guarded", "http://192.0.2.10:8080/hook")
    post(rest, "guarded", "x")
    for subscription_id, error in ((by_name, "The host 'trigger.me' is not in"),
                                   (by_address, "The address 192.0.2.10 is not in")):
        record = record_once_given_up(rest, "guarded", subscription_id)
        assert record["last_error"].startswith(error)
        assert "delivered" not in record


def test_filter_policy_sends_only_matching_messages_and_moves_past_the_others(rest):
    with webhook_receiver() as hook:
        subscription_id = subscribe(rest, "filtered", hook.url, filter_policy={
            "kind": ["order"], "total": [{"numeric": [">=", 100]}]})
        post(rest, "filtered", {"kind": "order", "total": 50}, "not an object",
             {"kind": "refund", "total": 500}, {"kind": "order", "total": 150},
             {"kind": "order", "total": 100})
        arrived = hook.wait_for(2)
        time.sleep(0.5)
        assert [item.body["body"]["total"] for item in hook.received] == [150, 100]
    assert [item.body["body"]["total"] for item in arrived] == [150, 100]
    record = delivery_record(rest, "filtered", subscription_id)
    assert (record["delivered"], record["attempts"]) == (2, 2)
    assert "last_success" in record and "last_error" not in record


def test_malformed_filter_policy_is_refused(rest):
    response = rest.post("/v2/queues/filtered/subscriptions", json={
        "subscriber": "http://127.0.0.1:9/x", "options": {"filter_policy": {"kind": "order"}}})
    assert response.status_code == 400
    assert "filter_policy.kind" in response.json()["description"]
