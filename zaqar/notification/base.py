"""What every sender gets and gives back, and the documents it sends (upstream's)."""
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol, runtime_checkable

from zaqar.auth import signed_url
from zaqar.storage.base import Message, Subscription, owner_project

# Upstream's Message_Type values.
NOTIFICATION = "Notification"
SUBSCRIPTION_CONFIRMATION = "SubscriptionConfirmation"
UNSUBSCRIBE_CONFIRMATION = "UnsubscribeConfirmation"
# Subscriber schemes that confirm their subscriptions (require_confirmation).
CONFIRMING_SCHEMES = ("http", "https", "mailto", "trust+http", "trust+https")
# Delivery.notice values -> the Message_Type of the notice.
NOTICES = {"confirm": SUBSCRIPTION_CONFIRMATION, "unsubscribe": UNSUBSCRIBE_CONFIRMATION}


@dataclass(frozen=True, slots=True)
class Outcome:
    """How one attempt went. ``retryable``: a failure the retry policy may try again
    (the receiver unreachable, timed out or failing on its side); otherwise the message
    is given up at once (refused by the receiver, or by allowed_destinations)."""

    delivered: bool
    retryable: bool = False
    error: str | None = None


DELIVERED = Outcome(True)


class Sender(Protocol):
    def send(self, subscription: Subscription, document: dict[str, Any]) -> Outcome:
        """One attempt to deliver ``document`` (a notification or a notice); never
        raises for the receiver's or the network's failures."""


@runtime_checkable
class PageSender(Protocol):
    """A sender that takes the due messages of a subscription a page at a time, in one
    attempt that is never retried (websocket push: a frame per page)."""

    def send_page(self, subscription: Subscription, messages: list[Message]) -> Outcome:
        """Never raises for the receiver's failures."""


def notification(queue: str, message: Message) -> dict[str, Any]:
    """Upstream's notification of one message: the message as posted, its type and its
    queue."""
    return {"ttl": message.ttl, "body": message.body, "Message_Type": NOTIFICATION,
            "queue_name": queue}


def confirm_path(subscription: Subscription) -> str:
    """The REST path that confirms ``subscription`` (of a queue or of a topic)."""
    kind = "topics" if owner_project(subscription.project)[1] else "queues"
    return f"/v2/{kind}/{subscription.source}/subscriptions/{subscription.id}/confirm"


def notice(subscription: Subscription, kind: str, key: str) -> dict[str, Any]:
    """Upstream's confirmation notice: a pre-signed URL (signed with ``key``) that lets
    the subscriber confirm its subscription, or confirm it again after unsubscribing,
    until the subscription expires.

    A queue's notice signs PUT on the queue's subscriptions (what a queue's pre-signed
    URLs grant) and names ``queue_name``. A topic's (ours: upstream has none) signs PUT on
    the subscription's confirm path alone, names ``topic_name``, and its project is the
    client's (never the project topics are stored in)."""
    source = subscription.source
    project, of_topic = owner_project(subscription.project)
    expires = (datetime.now(UTC).replace(tzinfo=None, microsecond=0)
               + timedelta(seconds=max(subscription.ttl, 60)))
    path = (confirm_path(subscription) if of_topic
            else signed_url.queue_path(source, "subscriptions"))
    grant = signed_url.sign_paths(key, [path], ["PUT"], project, expires)
    noun = "topic" if of_topic else "queue"
    if kind == "unsubscribe":
        text = (f"You have unsubscribed successfully to the {noun}: {source}, you can "
                "resubscribe it by using confirmed=True.")
    else:
        text = f"You have chosen to subscribe to the {noun}: {source}"
    return {
        "Message_Type": NOTICES[kind],
        "Message": text,
        "URL-Signature": grant["signature"],
        "URL-Methods": "PUT",
        "URL-Paths": path,
        "X-Project-ID": project,
        "URL-Expires": grant["expires"],
        "SubscribeBody": {"confirmed": True},
        "UnsubscribeBody": {"confirmed": False},
        "subscription_id": subscription.id,
        f"{noun}_name": source,
    }
