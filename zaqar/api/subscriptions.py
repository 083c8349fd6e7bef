"""Subscription actions: create, list, get, update, delete, confirm. Delivery is
elsewhere (zaqar.notification reads what these store).

A second subscription of a queue to the same URI subscriber answers as upstream's REST
API: 201 with the existing subscription's id while that one is unconfirmed (and the
confirmation notice is owed again), 409 once it is confirmed. A second websocket
subscription of one connection is 409. With ``[notification] require_confirmation``, a
new URI subscription owes its subscriber a confirmation notice, and one confirmed
false an unsubscribe notice (``Delivery.notice``; the notifier sends them).

Documents of URI subscriptions carry ``delivery``, their delivery record (ours:
attempts, delivered, given_up, last_success, last_error, last_error_at); websocket
subscriptions' documents are upstream's exactly.
"""
import time
from typing import Any
from urllib.parse import urlsplit

from zaqar.api import render
from zaqar.api.base import Actions
from zaqar.api.errors import BadRequest, Forbidden, ServiceUnavailable
from zaqar.api.request import Response, ScopedRequest
from zaqar.api.validation import MIN_SUBSCRIPTION_TTL
from zaqar.storage import errors
from zaqar.storage.base import Subscription

MAX_SUBSCRIPTION_TTL = 2 ** 31 - 1


class SubscriptionActions(Actions):
    _trust_issuer: Any = None  # made on the first trust+ subscriber without a trust

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
        options = self._with_trust(req, subscriber, options, time.time() + ttl)
        notice = "confirm" if self._confirms(subscriber) else None
        try:
            subscription_id = self.storage.subscriptions.create(
                queue, req.project, subscriber, ttl, options, notice)
        except errors.SubscriptionAlreadyExists:
            subscription_id = self._unconfirmed_twin(queue, req.project, subscriber, notice)
        # Upstream's Location is the collection's, not the new subscription's.
        return Response(201, {"subscription_id": subscription_id},
                        {"Location": _collection_href(queue)})

    def _with_trust(self, req: ScopedRequest, subscriber: str, options: dict[str, Any],
                    ends: float) -> dict[str, Any]:
        """``options`` of a subscription to ``subscriber``. For a ``trust+`` subscriber
        (zaqar.notification.trust_issuer): without ``trust_id``, a copy naming a new
        trust from the caller to the service's trustee user, ending at ``ends``; with
        one, the same options once Keystone shows the trust is the caller's (also when
        an update keeps it: a changed subscriber must not receive another user's
        tokens). Raises BadRequest with no Keystone caller, Forbidden when
        Keystone refuses, ServiceUnavailable when it cannot be asked."""
        trust_id = options.get("trust_id")
        named = isinstance(trust_id, str) and bool(trust_id)
        if not urlsplit(subscriber).scheme.startswith("trust+"):
            return options
        caller = req.credentials
        if caller is None or not caller.token or not caller.user_id or not caller.project_id:
            if named and self.conf.auth_strategy != "keystone":
                return options  # no identities: nothing to check the trust against
            raise BadRequest("A trust+ subscriber needs a caller authenticated by Keystone: "
                             "its trust is created from the caller's token when "
                             "options.trust_id is not given, and checked when it is.")
        if self._trust_issuer is None:
            # Imported on first use: keystoneauth is not needed by services without it.
            from zaqar.notification.trust_issuer import TrustIssuer
            self._trust_issuer = TrustIssuer(self.conf)
        from zaqar.notification.trust_issuer import TrustRefused
        try:
            if named:
                self._trust_issuer.check(caller, trust_id)
                return options
            return {**options, "trust_id": self._trust_issuer.create(caller, ends)}
        except TrustRefused as error:
            if error.refused:
                raise Forbidden(f"Keystone refused the subscriber's trust: {error.reason}",
                                "Trust not usable" if named else "Trust not created") from None
            raise ServiceUnavailable("The subscriber's trust could not be created or "
                                     f"checked: {error.reason}") from None

    def _document(self, found: Subscription, at: float) -> dict[str, Any]:
        document = render.subscription(found, at)
        if urlsplit(found.subscriber).scheme in self.limits.subscriber_types:
            document["delivery"] = found.delivery.record
        return document

    def _confirms(self, subscriber: str) -> bool:
        """Whether ``subscriber`` must confirm before anything is delivered to it."""
        return (self.conf.notification.require_confirmation
                and urlsplit(subscriber).scheme in self.limits.subscriber_types)

    def _unconfirmed_twin(self, queue: str, project: str, subscriber: str,
                          notice: str | None) -> str:
        """The id of the live, unconfirmed subscription to ``subscriber`` (its notice
        owed again). Raises SubscriptionAlreadyExists when it is confirmed, or when the
        subscriber is a websocket connection."""
        twin = self.storage.subscriptions.find(queue, project, subscriber)
        if (twin is None or twin.confirmed
                or urlsplit(subscriber).scheme not in self.limits.subscriber_types):
            raise errors.SubscriptionAlreadyExists(subscriber, queue)
        if notice is not None:
            self.storage.subscriptions.set_notice(queue, project, twin.id, notice)
        return twin.id

    def subscription_list(self, req: ScopedRequest) -> Response:
        v = self.validate
        queue = v.queue_name(req.params.get("queue_name"))
        limit = v.query_int(req.params, "limit", 10, 1, self.limits.max_subscriptions_per_page)
        marker = v.marker(req.params)
        found = self.storage.subscriptions.list(queue, req.project, marker, limit)
        at = time.time()
        links = render.next_link(_collection_href(queue),
                                 {"marker": found[-1].id, "limit": limit}) if found else []
        return Response(200, {"subscriptions": [self._document(s, at) for s in found],
                              "links": links})

    def subscription_get(self, req: ScopedRequest) -> Response:
        queue = self.validate.queue_name(req.params.get("queue_name"))
        subscription_id = self.validate.resource_id(req.params, "subscription_id")
        found = self.storage.subscriptions.get(queue, req.project, subscription_id)
        return Response(200, self._document(found, time.time()))

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
        if "subscriber" in fields or "options" in fields:
            current = self.storage.subscriptions.get(queue, req.project, subscription_id)
            # A ttl is counted from its last setting, at or before now: the trust lasts
            # at least as long as the subscription.
            ends = time.time() + fields.get("ttl", current.ttl)
            options = self._with_trust(req, fields.get("subscriber", current.subscriber),
                                       fields.get("options", current.options), ends)
            if options is not fields.get("options", current.options):
                fields["options"] = options
        self.storage.subscriptions.update(queue, req.project, subscription_id, fields)
        return Response(204, headers={"Location": _item_href(queue, subscription_id)})

    def subscription_confirm(self, req: ScopedRequest) -> Response:
        queue = self.validate.queue_name(req.params.get("queue_name"))
        subscription_id = self.validate.resource_id(req.params, "subscription_id")
        confirmed = req.params.get("confirmed")
        if not isinstance(confirmed, bool):
            raise BadRequest("confirmed must be true or false.")
        self.storage.subscriptions.confirm(queue, req.project, subscription_id, confirmed)
        if not confirmed and self.conf.notification.require_confirmation:
            self.storage.subscriptions.set_notice(queue, req.project, subscription_id,
                                                  "unsubscribe")
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
