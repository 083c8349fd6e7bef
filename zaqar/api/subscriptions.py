"""Subscription actions: create, list, get, update, delete, confirm. Delivery is elsewhere."""
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
        return Response(201, {"subscription_id": subscription_id}, {
            "Location": f"{render.queue_href(queue)}/subscriptions/{subscription_id}"})

    def subscription_list(self, req: ScopedRequest) -> Response:
        v = self.validate
        queue = v.queue_name(req.params.get("queue_name"))
        limit = v.query_int(req.params, "limit", 10, 1, self.limits.max_subscriptions_per_page)
        marker = v.marker(req.params)
        found = self.storage.subscriptions.list(queue, req.project, marker, limit)
        at = time.time()
        links = render.next_link(f"{render.queue_href(queue)}/subscriptions",
                                 {"marker": found[-1].id, "limit": limit}) if found else []
        return Response(200, {"subscriptions": [render.subscription(s, at) for s in found],
                              "links": links})

    def subscription_get(self, req: ScopedRequest) -> Response:
        queue = self.validate.queue_name(req.params.get("queue_name"))
        subscription_id = self.validate.resource_id(req.params, "subscription_id")
        found = self.storage.subscriptions.get(queue, req.project, subscription_id)
        return Response(200, render.subscription(found, time.time()))

    def subscription_update(self, req: ScopedRequest) -> Response:
        queue = self.validate.queue_name(req.params.get("queue_name"))
        subscription_id = self.validate.resource_id(req.params, "subscription_id")
        fields: dict[str, Any] = {}
        if "subscriber" in req.params:
            fields["subscriber"] = self.validate.subscriber(req.params["subscriber"])
        if "ttl" in req.params:
            fields["ttl"] = self._ttl(req.params)
        if "options" in req.params:
            fields["options"] = self.validate.subscription_options(req.params["options"])
        if not fields:
            raise BadRequest("Give at least one of subscriber, ttl, options to update.")
        self.storage.subscriptions.update(queue, req.project, subscription_id, fields)
        return Response(204)

    def subscription_confirm(self, req: ScopedRequest) -> Response:
        queue = self.validate.queue_name(req.params.get("queue_name"))
        subscription_id = self.validate.resource_id(req.params, "subscription_id")
        confirmed = req.params.get("confirmed")
        if not isinstance(confirmed, bool):
            raise BadRequest("confirmed must be true or false.")
        self.storage.subscriptions.confirm(queue, req.project, subscription_id, confirmed)
        return Response(204)

    def subscription_delete(self, req: ScopedRequest) -> Response:
        queue = self.validate.queue_name(req.params.get("queue_name"))
        subscription_id = self.validate.resource_id(req.params, "subscription_id")
        self.storage.subscriptions.delete(queue, req.project, subscription_id)
        return Response(204)
