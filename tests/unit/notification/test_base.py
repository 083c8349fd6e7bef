"""The documents of zaqar/notification/base.py: confirmation notices of a queue's and a
topic's subscriptions, and what their signatures grant."""
from zaqar.auth import signed_url
from zaqar.notification import base
from zaqar.storage.base import Subscription, topic_project

KEY = "notice-test-key"
QUEUE_CONFIRM = "/v2/queues/{queue_name}/subscriptions"


def subscription(project: str, source: str = "alerts") -> Subscription:
    return Subscription(id="0123abcd", source=source, subscriber="http://127.0.0.1/hook",
                        ttl=3600, created=0.0, options={}, confirmed=False, project=project)


def grant_of(notice: dict) -> signed_url.Grant:
    grant = signed_url.verify(KEY, signed_url.SignedHeaders(
        notice["URL-Signature"], notice["URL-Expires"], (notice["URL-Methods"],),
        (notice["URL-Paths"],), notice["X-Project-ID"]))
    assert grant is not None
    return grant


def test_a_topic_notice_names_the_topic_its_confirm_and_the_clients_project():
    notice = base.notice(subscription(topic_project("p")), "confirm", KEY)
    assert {key: value for key, value in notice.items() if not key.startswith("URL-")} == {
        "Message_Type": "SubscriptionConfirmation",
        "Message": "You have chosen to subscribe to the topic: alerts",
        "X-Project-ID": "p",
        "SubscribeBody": {"confirmed": True}, "UnsubscribeBody": {"confirmed": False},
        "subscription_id": "0123abcd", "topic_name": "alerts"}
    assert (notice["URL-Methods"], notice["URL-Paths"]) == (
        "PUT", "/v2/topics/alerts/subscriptions/0123abcd/confirm")


def test_a_topic_notice_grants_its_confirm_and_nothing_of_the_queue_of_that_name():
    grant = grant_of(base.notice(subscription(topic_project("p")), "confirm", KEY))
    assert grant.project == "p"
    params = {"topic_name": "alerts", "queue_name": "alerts", "subscription_id": "0123abcd"}
    assert grant.allows(("PUT", signed_url.TOPIC_CONFIRM_PATH), params)
    assert not grant.allows(("PUT", signed_url.TOPIC_CONFIRM_PATH),
                            {**params, "subscription_id": "another"})
    assert not grant.allows(("PUT", QUEUE_CONFIRM), params)


def test_a_queue_notice_is_unchanged_and_grants_no_topic_confirm():
    notice = base.notice(subscription("p"), "confirm", KEY)
    assert (notice["Message"], notice["queue_name"], notice["X-Project-ID"],
            notice["URL-Paths"]) == ("You have chosen to subscribe to the queue: alerts",
                                     "alerts", "p", "/v2/queues/alerts/subscriptions")
    assert "topic_name" not in notice
    grant = grant_of(notice)
    params = {"topic_name": "alerts", "queue_name": "alerts", "subscription_id": "0123abcd"}
    assert grant.allows(("PUT", QUEUE_CONFIRM), params)
    assert not grant.allows(("PUT", signed_url.TOPIC_CONFIRM_PATH), params)


def test_a_topic_unsubscribe_notice_speaks_of_the_topic():
    notice = base.notice(subscription(topic_project("p")), "unsubscribe", KEY)
    assert notice["Message_Type"] == "UnsubscribeConfirmation"
    assert notice["Message"] == ("You have unsubscribed successfully to the topic: alerts, "
                                 "you can resubscribe it by using confirmed=True.")


def test_confirm_paths_of_queue_and_topic_subscriptions():
    assert base.confirm_path(subscription("p")) == (
        "/v2/queues/alerts/subscriptions/0123abcd/confirm")
    assert base.confirm_path(subscription(topic_project("p"))) == (
        "/v2/topics/alerts/subscriptions/0123abcd/confirm")
