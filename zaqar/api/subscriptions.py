"""Subscription actions: create, list, get, update, delete, confirm. Delivery is elsewhere.

Only websocket subscriptions (the caller's own connection, ``push_subscriber``) are
delivered today: URI subscribers (webhooks, e-mail) are refused by the validator until
their delivery lands. A second subscription of a queue to the same subscriber is 409
(upstream's websocket answer; upstream's REST answers 201 with the existing id while
that one awaits confirmation, which only URI subscribers do).
"""
import time
from typing import Any

from zaqar.api import render
from zaqar.api.base import Actions
from zaqar.api.errors import BadRequest
from zaqar.api.request import Response, ScopedRequest
from zaqar.api.validation import MIN_SUBSCRIPTION_TTL

MAX_SUBSCRIPTION_TTL = 2 ** 31 - 1


class SubscriptionActions(Actions):
    def _ttl(self, params: dict[str, Any]) -> int:
        return self.validate.document_int(params, "ttl", self.limits.default_subscription_ttl,
                                          MIN_SUBSCRIPTION_TTL, MAX_SUBSCRIPTION_TTL)

    def subscription_create(self, req: ScopedRequest) -> Response:
        queue = self.validate.queue_name(req.params.get("queue_name"))
        if req.push_subscriber and not req.params.get("subscriber"):
            subscriber = req.push_subscriber
        else:
            subscriber = self.validate.subscriber(req.params.get("subscriber"))
        ttl = self._ttl(req.params)
        options = self.validate.subscription_options(req.params.get("options"))
        subscription_id = self.storage.subscriptions.create(queue, req.project, subscriber,
                                                            ttl, options)
        # Upstream's Location is the collection's, not the new subscription's.
        return Response(201, {"subscription_id": subscription_id},
                        {"Location": _collection_href(queue)})

    def subscription_list(self, req: ScopedRequest) -> Response:
        v = self.validate
        queue = v.queue_name(req.params.get("queue_name"))
        limit = v.query_int(req.params, "limit", 10, 1, self.limits.max_subscriptions_per_page)
        marker = v.marker(req.params)
        found = self.storage.subscriptions.list(queue, req.project, marker, limit)
        at = time.time()
        links = render.next_link(_collection_href(queue),
                                 {"marker": found[-1].id, "limit": limit}) if found else []
        return Response(200, {"subscriptions": [render.subscription(s, at) for s in found],
                              "links": links})

    def subscription_get(self, req: ScopedRequest) -> Response:
        queue = self.validate.queue_name(req.params.get("queue_name"))
        subscription_id = self.validate.resource_id(req.params, "subscription_id")
        found = self.storage.subscriptions.get(queue, req.project, subscription_id)
        return Response(200, render.subscription(found, time.time()))

    def subscription_update(self, req: ScopedRequest) -> Response:
        """Change the fields given; null leaves a field as it is (the ``openstack`` CLI
        sends ``{"subscriber": null, "ttl": 900, "options": {}}`` for ``--ttl 900``), and
        ``options`` replaces the options whole, ``{}`` included, as upstream."""
        queue = self.validate.queue_name(req.params.get("queue_name"))
        subscription_id = self.validate.resource_id(req.params, "subscription_id")
        given = {key: req.params[key] for key in ("subscriber", "ttl", "options")
                 if req.params.get(key) is not None}
        if not given:
            raise BadRequest("Give at least one of subscriber, ttl, options to update "
                             "(null leaves a field unchanged).")
        fields: dict[str, Any] = {}
        if "subscriber" in given:
            fields["subscriber"] = self.validate.subscriber(given["subscriber"])
        if "ttl" in given:
            fields["ttl"] = self._ttl(given)
        if "options" in given:
            fields["options"] = self.validate.subscription_options(given["options"])
        self.storage.subscriptions.update(queue, req.project, subscription_id, fields)
        return Response(204, headers={"Location": _item_href(queue, subscription_id)})

    def subscription_confirm(self, req: ScopedRequest) -> Response:
        queue = self.validate.queue_name(req.params.get("queue_name"))
        subscription_id = self.validate.resource_id(req.params, "subscription_id")
        confirmed = req.params.get("confirmed")
        if not isinstance(confirmed, bool):
            raise BadRequest("confirmed must be true or false.")
        self.storage.subscriptions.confirm(queue, req.project, subscription_id, confirmed)
        return Response(204, headers={
            "Location": f"{_item_href(queue, subscription_id)}/confirm"})

    def subscription_delete(self, req: ScopedRequest) -> Response:
        queue = self.validate.queue_name(req.params.get("queue_name"))
        subscription_id = self.validate.resource_id(req.params, "subscription_id")
        self.storage.subscriptions.delete(queue, req.project, subscription_id)
        return Response(204)


def _collection_href(queue: str) -> str:
    return f"{render.queue_href(queue)}/subscriptions"


def _item_href(queue: str, subscription_id: str) -> str:
    return f"{_collection_href(queue)}/{subscription_id}"
