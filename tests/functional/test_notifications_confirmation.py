"""Confirmation end to end ([notification] require_confirmation): the subscriber is sent
a confirmation notice with a pre-signed URL, gets nothing until it confirms through
that URL, and is sent an unsubscribe notice when confirmed false."""
import time
from collections.abc import Iterator

import pytest

from tests.functional.conftest import Rest, running_server
from tests.functional.receivers import webhook_receiver
from tests.functional.test_notifications import NOTIFICATION, post
from zaqar.auth import signed_url

KEY = "confirmation-test-key"
CONFIG = NOTIFICATION + f"require_confirmation = true\n[signed_url]\nsecret_key = {KEY}\n"


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator:
    with running_server(tmp_path_factory.mktemp("confirmation"), CONFIG) as running:
        yield running


@pytest.fixture
def rest(server) -> Iterator[Rest]:
    client = Rest(server.url)
    yield client
    client.close()


def signed_headers(notice: dict) -> dict[str, str]:
    return {name: notice[name] for name in ("URL-Signature", "URL-Methods", "URL-Paths",
                                            "URL-Expires", "X-Project-ID")}


def test_subscriber_confirms_through_the_notice_and_only_then_gets_messages(rest, server):
    with webhook_receiver() as hook:
        created = rest.post("/v2/queues/careful/subscriptions",
                            json={"subscriber": hook.url, "ttl": 3600})
        subscription_id = created.json()["subscription_id"]
        [notice] = [item.body for item in hook.wait_for(1)]
        assert notice["Message_Type"] == "SubscriptionConfirmation"
        assert notice["Message"] == "You have chosen to subscribe to the queue: careful"
        assert (notice["SubscribeBody"], notice["UnsubscribeBody"]) == (
            {"confirmed": True}, {"confirmed": False})
        assert (notice["subscription_id"], notice["queue_name"]) == (subscription_id,
                                                                      "careful")
        grant = signed_url.verify(KEY, signed_url.SignedHeaders(
            notice["URL-Signature"], notice["URL-Expires"], (notice["URL-Methods"],),
            (notice["URL-Paths"],), notice["X-Project-ID"]))
        assert grant is not None and grant.project == rest.project
        assert grant.allows(("PUT", "/v2/queues/{queue_name}/subscriptions"),
                            {"queue_name": "careful"})

        post(rest, "careful", "before confirmation")
        # Subscribing again while unconfirmed: the same subscription, the notice again.
        again = rest.post("/v2/queues/careful/subscriptions",
                          json={"subscriber": hook.url, "ttl": 3600})
        assert (again.status_code, again.json()) == (201, {"subscription_id": subscription_id})
        assert hook.wait_for(2)[1].body["Message_Type"] == "SubscriptionConfirmation"

        confirm = f"/v2/queues/careful/subscriptions/{subscription_id}/confirm"
        signer = Rest(server.url)  # the subscriber, in the URL's project
        confirmed = signer.put(confirm, json=notice["SubscribeBody"],
                               headers=signed_headers(notice))
        assert confirmed.status_code == 204, confirmed.text
        assert rest.get(f"/v2/queues/careful/subscriptions/{subscription_id}"
                        ).json()["confirmed"] is True
        post(rest, "careful", "after confirmation")
        delivered = hook.wait_for(3)[2].body
        assert (delivered["Message_Type"], delivered["body"]) == ("Notification",
                                                                  "after confirmation")
        assert rest.post("/v2/queues/careful/subscriptions",
                         json={"subscriber": hook.url, "ttl": 3600}).status_code == 409

        assert rest.put(confirm, json={"confirmed": False}).status_code == 204
        goodbye = hook.wait_for(4)[3].body
        assert goodbye["Message_Type"] == "UnsubscribeConfirmation"
        post(rest, "careful", "after unsubscribing")
        time.sleep(1)  # five notifier rounds
        assert [item.body.get("body") for item in hook.received
                if item.body["Message_Type"] == "Notification"] == ["after confirmation"]
