"""Confirmation of a topic's subscriptions end to end ([notification]
require_confirmation): the subscriber is sent a notice naming the topic, in its owner's
project, with a pre-signed URL of the subscription's confirm; it gets nothing until it
confirms by a real PUT with the notice's fields, and can unsubscribe and subscribe again
the same way. A topic's signature reaches no queue, a queue's no topic.

Upstream sends no notice for topics (its topic subscriptions answer 500); the notice is
ours, the queue's by analogy (docs/notifications.md, "Confirmation")."""
import uuid
from collections.abc import Iterator

import pytest
import requests

from tests.functional.conftest import Rest, running_server
from tests.functional.receivers import Webhook, smtp_receiver, webhook_receiver
from tests.functional.test_notifications_confirmation import CONFIG, signed_headers
from tests.functional.test_notifications_mail import CONFIRMATION_PAGE, mail_config

RECEIVER = str(uuid.uuid4())  # the receivers' Client-ID


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator:
    with running_server(tmp_path_factory.mktemp("topic-confirmation"), CONFIG) as running:
        yield running


@pytest.fixture
def rest(server) -> Iterator[Rest]:
    client = Rest(server.url)
    yield client
    client.close()


def subscribe(rest: Rest, path: str, hook: Webhook) -> str:
    created = rest.post(f"{path}/subscriptions", json={"subscriber": hook.url, "ttl": 3600})
    assert created.status_code == 201, created.text
    return created.json()["subscription_id"]


def publish(rest: Rest, topic: str, body: str) -> None:
    posted = rest.post(f"/v2/topics/{topic}/messages", json={"messages": [{"body": body}]})
    assert posted.status_code == 201, posted.text


def answer(server, notice: dict, body: dict, path: str | None = None) -> requests.Response:
    """What a receiver does with a notice: PUT ``body`` to the notice's path (or
    ``path``) with the notice's signature fields as headers, and no token."""
    return requests.put(server.url + (path or notice["URL-Paths"]), json=body, timeout=30,
                        headers={**signed_headers(notice), "Client-ID": RECEIVER})


def notified(hook: Webhook) -> list:
    return [item.body["body"] for item in hook.received
            if item.body["Message_Type"] == "Notification"]


def test_topic_subscriber_confirms_through_the_notice_and_only_then_gets_messages(rest,
                                                                                  server):
    with webhook_receiver() as hook:
        subscription_id = subscribe(rest, "/v2/topics/careful", hook)
        [notice] = [item.body for item in hook.wait_for(1)]
        assert {key: value for key, value in notice.items()
                if key not in ("URL-Signature", "URL-Expires")} == {
            "Message_Type": "SubscriptionConfirmation",
            "Message": "You have chosen to subscribe to the topic: careful",
            "URL-Methods": "PUT",
            "URL-Paths": f"/v2/topics/careful/subscriptions/{subscription_id}/confirm",
            "X-Project-ID": rest.project,
            "SubscribeBody": {"confirmed": True}, "UnsubscribeBody": {"confirmed": False},
            "subscription_id": subscription_id, "topic_name": "careful"}

        publish(rest, "careful", "before confirmation")
        # Subscribing again while unconfirmed: the same subscription, the notice again;
        # the run that sends it passes over what was posted (unconfirmed).
        assert subscribe(rest, "/v2/topics/careful", hook) == subscription_id
        assert hook.wait_for(2)[1].body["Message_Type"] == "SubscriptionConfirmation"

        confirmed = answer(server, notice, notice["SubscribeBody"])
        assert confirmed.status_code == 204, confirmed.text
        assert confirmed.headers["Location"].endswith(notice["URL-Paths"])
        found = rest.get(f"/v2/topics/careful/subscriptions/{subscription_id}").json()
        assert found["confirmed"] is True
        publish(rest, "careful", "after confirmation")
        delivered = hook.wait_for(3)[2].body
        assert (delivered["Message_Type"], delivered["body"]) == ("Notification",
                                                                  "after confirmation")

        # The notice's UnsubscribeBody on the same URL unsubscribes.
        assert answer(server, notice, notice["UnsubscribeBody"]).status_code == 204
        goodbye = hook.wait_for(4)[3].body
        assert (goodbye["Message_Type"], goodbye["topic_name"], goodbye["X-Project-ID"]) == (
            "UnsubscribeConfirmation", "careful", rest.project)
        assert goodbye["Message"].startswith("You have unsubscribed successfully to the "
                                             "topic: careful")
        publish(rest, "careful", "after unsubscribing")
        assert subscribe(rest, "/v2/topics/careful", hook) == subscription_id
        again = hook.wait_for(5)[4].body
        assert again["Message_Type"] == "SubscriptionConfirmation"
        assert answer(server, again, again["SubscribeBody"]).status_code == 204
        publish(rest, "careful", "after subscribing again")
        hook.wait_for(6)
        assert notified(hook) == ["after confirmation", "after subscribing again"]


def test_topic_and_queue_signatures_do_not_reach_each_other(rest, server):
    with webhook_receiver() as topic_hook, webhook_receiver() as queue_hook:
        topic_id = subscribe(rest, "/v2/topics/shared-name", topic_hook)
        other_id = subscribe(rest, "/v2/topics/shared-name", queue_hook)
        queue_id = subscribe(rest, "/v2/queues/shared-name", queue_hook)
        topic_notice = topic_hook.wait_for(1)[0].body
        queue_notices = {item.body["subscription_id"]: item.body
                         for item in queue_hook.wait_for(2)}
        queue_notice = queue_notices[queue_id]
        assert queue_notice["queue_name"] == "shared-name"

        refused = [
            # The topic's signature: on the queue of the topic's name, on another
            # subscription of the topic, on another action of the subscription.
            answer(server, topic_notice, {"confirmed": True},
                   f"/v2/queues/shared-name/subscriptions/{topic_id}/confirm"),
            answer(server, topic_notice, {"confirmed": True},
                   f"/v2/topics/shared-name/subscriptions/{other_id}/confirm"),
            requests.get(f"{server.url}/v2/topics/shared-name/subscriptions/{topic_id}",
                         headers={**signed_headers(topic_notice), "Client-ID": RECEIVER},
                         timeout=30),
            # The queue's signature on the topic's confirm.
            answer(server, queue_notice, {"confirmed": True},
                   f"/v2/topics/shared-name/subscriptions/{topic_id}/confirm"),
        ]
        for response in refused:
            assert response.status_code == 403, response.text
            assert set(response.json()) == {"title", "description"}
        for subscription_id in (topic_id, other_id):
            found = rest.get(f"/v2/topics/shared-name/subscriptions/{subscription_id}")
            assert found.json()["confirmed"] is False
        assert rest.get(f"/v2/queues/shared-name/subscriptions/{queue_id}"
                        ).json()["confirmed"] is False

        # Each in its own place: both confirm.
        assert answer(server, topic_notice, {"confirmed": True}).status_code == 204
        confirm_queue = f"/v2/queues/shared-name/subscriptions/{queue_id}/confirm"
        assert answer(server, queue_notice, {"confirmed": True},
                      confirm_queue).status_code == 204


def test_a_queues_shared_url_confirms_no_topic_subscription(rest, server):
    with webhook_receiver() as hook:
        topic_id = subscribe(rest, "/v2/topics/shared-too", hook)
        hook.wait_for(1)
    share = rest.post("/v2/queues/shared-too/share",
                      json={"paths": ["subscriptions"], "methods": ["PUT"]}).json()
    headers = {"URL-Signature": share["signature"], "URL-Expires": share["expires"],
               "URL-Methods": ",".join(share["methods"]),
               "URL-Paths": ",".join(share["paths"]), "X-Project-ID": share["project"],
               "Client-ID": RECEIVER}
    refused = requests.put(
        f"{server.url}/v2/topics/shared-too/subscriptions/{topic_id}/confirm",
        json={"confirmed": True}, headers=headers, timeout=30)
    assert refused.status_code == 403, refused.text


def test_a_topics_confirmation_mail_links_to_its_confirm_in_the_owners_project(tmp_path):
    extra = (f"require_confirmation = true\nexternal_confirmation_url = {CONFIRMATION_PAGE}\n"
             "[signed_url]\nsecret_key = mail-test-key\n")
    with smtp_receiver() as smtp, running_server(tmp_path, mail_config(smtp, extra)) as server:
        rest = Rest(server.url)
        created = rest.post("/v2/topics/careful/subscriptions",
                            json={"subscriber": "mailto:new@example.com", "ttl": 3600})
        assert created.status_code == 201, created.text
        subscription_id = created.json()["subscription_id"]
        [mail] = smtp.wait_for(1)
    text = mail.message.get_content()
    # The template is upstream's (it says queue); {0} is the topic, {1} the client's project.
    assert text.startswith("You have chosen to subscribe to the queue: careful. This queue "
                           f"belongs to project: {rest.project}.")
    link = text.split("link below: ")[1].strip()
    confirm = f"/v2/topics/careful/subscriptions/{subscription_id}/confirm"
    assert f"&Paths={confirm}&Project={rest.project}&" in link
    assert link.endswith(f"&Url={confirm}&Topic=careful")
