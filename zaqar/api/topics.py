"""Topic actions (upstream's ``/v2/topics`` API): create, list, get, update, stats,
purge, delete; post, list, get and delete messages; subscriptions.

A topic is a queue without claims whose messages go to every subscription of it. It is
stored as a queue of the project's topic namespace (storage.base.topic_project), so each
action here is the queue action of the same meaning, run in that namespace: validation,
limits, encryption and storage are the queues' own, written once. Every subscription of
a topic has its own delivery cursor over the topic's messages (zaqar.notification), which
is the fan-out: each message posted reaches every subscriber once.

What differs from queues: a topic that does not exist is 404 (upstream's), not a lazy
queue document; its document has only the reserved keys upstream shows for topics; it
takes no dead-letter settings (nothing claims its messages); hrefs and ``Location``
headers name ``/v2/topics/...``; errors speak of topics.
"""
import dataclasses
from collections.abc import Callable
from typing import Any

from oslo_config import cfg

from zaqar.api import render
from zaqar.api.base import Actions
from zaqar.api.errors import BadRequest, Conflict, NotFound
from zaqar.api.messages import MessageActions
from zaqar.api.metadata_cache import QueueMetadataCache
from zaqar.api.queues import QueueActions
from zaqar.api.request import Response, ScopedRequest
from zaqar.api.subscriptions import SubscriptionActions
from zaqar.api.validation import QUEUE_NAME, Validator
from zaqar.storage import errors as storage_errors
from zaqar.storage.base import DataDriver, topic_project

TOPICS = f"{render.V2}/topics"
# Queue metadata keys that make no sense for a topic (nothing claims its messages).
CLAIM_ONLY_KEYS = ("_dead_letter_queue", "_max_claim_count",
                   "_dead_letter_queue_messages_ttl")
# The reserved keys upstream's topic document shows.
TOPIC_RESERVED_KEYS = ("_max_messages_post_size", "_default_message_ttl",
                       "_default_message_delay")


class TopicActions(Actions):
    def __init__(self, storage: DataDriver, validate: Validator, conf: cfg.ConfigOpts,
                 metadata_cache: QueueMetadataCache) -> None:
        super().__init__(storage, validate, conf, metadata_cache)
        self._queues = QueueActions(storage, validate, conf, metadata_cache)
        self._messages = MessageActions(storage, validate, conf, metadata_cache)
        self._subscriptions = SubscriptionActions(storage, validate, conf, metadata_cache)

    # -- topics ---------------------------------------------------------------------

    def topic_create(self, req: ScopedRequest) -> Response:
        _refuse_claim_settings(req.params.get("metadata"))
        response = self._run(self._queues.queue_create, req)
        response.headers["Location"] = f"{TOPICS}/{self._name(req)}"
        return response

    def topic_list(self, req: ScopedRequest) -> Response:
        response = self._queues.queue_list(self._as_queue(req))
        body = response.body
        for entry in body["queues"]:
            entry["href"] = f"{TOPICS}/{entry['name']}"
            if "metadata" in entry:
                entry["metadata"] = self._document(entry["metadata"])
        links = [{**link, "href": link["href"].replace(f"{render.V2}/queues", TOPICS, 1)}
                 for link in body["links"]]
        topics = {"topics": body.pop("queues"), "links": links}
        if "count" in body:
            topics["count"] = body["count"]
        return Response(200, topics)

    def topic_get(self, req: ScopedRequest) -> Response:
        name = self._name(req)
        try:
            metadata = self.storage.queues.get_metadata(name, topic_project(req.project))
        except storage_errors.QueueDoesNotExist:
            raise _not_found(name) from None
        return Response(200, self._document(self._queues.with_defaults(metadata)))

    def topic_update(self, req: ScopedRequest) -> Response:
        operations = req.params.get("patch")
        if isinstance(operations, list):
            for operation in operations:
                if isinstance(operation, dict) and operation.get("op") != "remove":
                    path = operation.get("path")
                    key = path.rsplit("/", 1)[-1] if isinstance(path, str) else None
                    _refuse_claim_settings({key: operation.get("value")})
        response = self._run(self._queues.queue_update, req)
        return Response(response.status, self._document(response.body), response.headers)

    def topic_delete(self, req: ScopedRequest) -> Response:
        return self._run(self._queues.queue_delete, req)

    def topic_get_stats(self, req: ScopedRequest) -> Response:
        response = self._run(self._queues.queue_get_stats, req)
        name = self._name(req)
        for end in ("oldest", "newest"):
            if end in response.body["messages"]:
                found = response.body["messages"][end]
                found["href"] = _message_href(name, found["id"])
        return response

    def topic_purge(self, req: ScopedRequest) -> Response:
        return self._run(self._queues.queue_purge, req)

    # -- messages -------------------------------------------------------------------

    def topic_message_post(self, req: ScopedRequest) -> Response:
        name = self._name(req)
        response = self._run(self._messages.message_post, req)
        ids = response.body["message_ids"]
        response.body["resources"] = [_message_href(name, i) for i in ids]
        response.headers["Location"] = f"{TOPICS}/{name}/messages?ids={','.join(ids)}"
        return response

    def topic_message_list(self, req: ScopedRequest) -> Response:
        name = self._name(req)
        response = self._run(self._messages.message_list, req)
        self._rehome_messages(name, response.body["messages"])
        for link in response.body["links"]:
            link["href"] = link["href"].replace(f"{render.queue_href(name)}/", f"{TOPICS}/"
                                                f"{name}/", 1)
        return response

    def topic_message_get_many(self, req: ScopedRequest) -> Response:
        response = self._run(self._messages.message_get_many, req)
        self._rehome_messages(self._name(req), response.body["messages"])
        return response

    def topic_message_get(self, req: ScopedRequest) -> Response:
        response = self._run(self._messages.message_get, req)
        self._rehome_messages(self._name(req), [response.body])
        return response

    def topic_message_delete(self, req: ScopedRequest) -> Response:
        return self._run(self._messages.message_delete, req)

    def topic_message_delete_many(self, req: ScopedRequest) -> Response:
        if req.params.get("pop") is not None:
            raise BadRequest("Topics have no pop: delete their messages by ids.")
        return self._run(self._messages.message_delete_many, req)

    # -- subscriptions --------------------------------------------------------------

    def topic_subscription_create(self, req: ScopedRequest) -> Response:
        response = self._run(self._subscriptions.subscription_create, req)
        response.headers["Location"] = f"{TOPICS}/{self._name(req)}/subscriptions"
        return response

    def topic_subscription_list(self, req: ScopedRequest) -> Response:
        name = self._name(req)
        response = self._run(self._subscriptions.subscription_list, req)
        for link in response.body["links"]:
            link["href"] = link["href"].replace(render.queue_href(name), f"{TOPICS}/{name}",
                                                1)
        return response

    def topic_subscription_get(self, req: ScopedRequest) -> Response:
        return self._run(self._subscriptions.subscription_get, req)

    def topic_subscription_update(self, req: ScopedRequest) -> Response:
        response = self._run(self._subscriptions.subscription_update, req)
        return self._rehome_location(req, response)

    def topic_subscription_confirm(self, req: ScopedRequest) -> Response:
        response = self._run(self._subscriptions.subscription_confirm, req)
        return self._rehome_location(req, response)

    def topic_subscription_delete(self, req: ScopedRequest) -> Response:
        return self._run(self._subscriptions.subscription_delete, req)

    # -- the namespace --------------------------------------------------------------

    @staticmethod
    def _name(req: ScopedRequest) -> str:
        """The topic's name, checked. Raises BadRequest."""
        name = req.params.get("topic_name")
        if not isinstance(name, str) or not name:
            raise BadRequest("Missing or invalid topic_name: a topic name is required.")
        if not QUEUE_NAME.fullmatch(name):
            if len(name) > 64:
                raise BadRequest("Topic names may not be more than 64 characters long.")
            raise BadRequest("Topic names may only contain ASCII letters, digits, "
                             "underscores, and dashes.")
        return name

    def _as_queue(self, req: ScopedRequest) -> ScopedRequest:
        params = {key: value for key, value in req.params.items() if key != "topic_name"}
        if "topic_name" in req.params:
            params["queue_name"] = self._name(req)
        return dataclasses.replace(req, project=topic_project(req.project), params=params)

    def _run(self, action: Callable[[ScopedRequest], Response], req: ScopedRequest) -> Response:
        """Run a queue action on the topic; storage errors told in topic words."""
        name = self._name(req)
        try:
            return action(self._as_queue(req))
        except storage_errors.QueueDoesNotExist:
            raise _not_found(name) from None
        except storage_errors.MessageDoesNotExist as error:
            raise NotFound(str(error).replace(" in queue ", " in topic "),
                           "Message not found") from None
        except storage_errors.SubscriptionAlreadyExists as error:
            raise Conflict(str(error).replace("Queue ", "Topic ", 1),
                           "Subscription already exists") from None

    def _document(self, metadata: dict[str, Any]) -> dict[str, Any]:
        """A topic's document: its metadata with the reserved keys upstream shows for
        topics (a queue's document has four more)."""
        defaults = self._queues.reserved_defaults()
        shown = {key: value for key, value in metadata.items()
                 if key in TOPIC_RESERVED_KEYS or key not in defaults
                 or value != defaults[key]}
        return {**{key: defaults[key] for key in TOPIC_RESERVED_KEYS}, **shown}

    @staticmethod
    def _rehome_messages(name: str, messages: list[dict[str, Any]]) -> None:
        for message in messages:
            if "href" in message:
                message["href"] = _message_href(name, message["id"])

    def _rehome_location(self, req: ScopedRequest, response: Response) -> Response:
        location = response.headers.get("Location")
        if location is not None:
            name = self._name(req)
            response.headers["Location"] = location.replace(render.queue_href(name),
                                                            f"{TOPICS}/{name}", 1)
        return response


def _message_href(topic: str, message_id: str) -> str:
    return f"{TOPICS}/{topic}/messages/{message_id}"


def _not_found(name: str) -> NotFound:
    return NotFound(f"Topic {name!r} does not exist.", "Topic not found")


def _refuse_claim_settings(metadata: Any) -> None:
    """Raises BadRequest for dead-letter settings: nothing claims a topic's messages."""
    if isinstance(metadata, dict):
        for key in CLAIM_ONLY_KEYS:
            if metadata.get(key) is not None:
                raise BadRequest(f"Topics take no {key}: their messages are not claimed.")
