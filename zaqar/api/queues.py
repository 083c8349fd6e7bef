"""Queue actions: create, list, get, update (JSON patch), delete, stats, purge."""
import copy
import time
from typing import Any

from zaqar.api import render
from zaqar.api.base import Actions
from zaqar.api.encryption import KeyUnavailable, cipher_for
from zaqar.api.errors import BadRequest, Conflict
from zaqar.api.request import Response, ScopedRequest
from zaqar.storage.errors import QueueDoesNotExist

PURGEABLE = ("messages", "subscriptions")
PATCH_OPS = ("add", "replace", "remove")


def cached_metadata(actions: Actions, name: str, project: str) -> dict[str, Any]:
    """A queue's metadata through the per-process cache ({} for a queue that does not
    exist yet): what posts and claims read their queue's settings from. Callers must
    not change it."""
    def load() -> dict[str, Any]:
        try:
            return actions.storage.queues.get_metadata(name, project)
        except QueueDoesNotExist:
            return {}

    return actions.metadata_cache.get(project, name, load)


class QueueActions(Actions):
    def reserved_defaults(self) -> dict[str, Any]:
        """Every reserved metadata key with the value a queue has when it does not set it."""
        return {
            "_max_messages_post_size": self.limits.max_messages_post_size,
            "_default_message_ttl": self.limits.default_message_ttl,
            "_default_message_delay": self.limits.default_message_delay,
            "_dead_letter_queue": None,
            "_dead_letter_queue_messages_ttl": None,
            "_max_claim_count": None,
            "_enable_encrypt_messages": False,
        }

    def with_defaults(self, metadata: dict[str, Any]) -> dict[str, Any]:
        """The queue document: its metadata with every reserved key it does not set."""
        return {**self.reserved_defaults(), **metadata}

    def queue_create(self, req: ScopedRequest) -> Response:
        name = self.validate.queue_name(req.params.get("queue_name"))
        metadata = self.validate.metadata(req.params.get("metadata"), req.body_size, name)
        self._check_encryption(metadata)
        created = self.storage.queues.create(name, req.project, metadata)
        self.metadata_cache.forget(req.project, name)
        return Response(201 if created else 204, headers={"Location": render.queue_href(name)})

    def queue_list(self, req: ScopedRequest) -> Response:
        v = self.validate
        limit = v.query_int(req.params, "limit", 10, 1, self.limits.max_queues_per_page)
        marker = v.marker(req.params)
        detailed = v.flag(req.params, "detailed")
        with_count = v.flag(req.params, "with_count")
        entries = self.storage.queues.list(req.project, marker, limit, detailed)
        queues = []
        for entry in entries:
            doc: dict[str, Any] = {"name": entry.name, "href": render.queue_href(entry.name)}
            if detailed:
                doc["metadata"] = self.with_defaults(entry.metadata or {})
            queues.append(doc)
        links = render.next_link(f"{render.V2}/queues", {
            "marker": entries[-1].name, "limit": limit,
            "detailed": detailed or None}) if entries else []
        body: dict[str, Any] = {"queues": queues, "links": links}
        if with_count:
            body["count"] = self.storage.queues.count(req.project)
        return Response(200, body)

    def queue_get(self, req: ScopedRequest) -> Response:
        """200 with the metadata, also for a queue that does not exist (yet): v2 queues
        are lazy, a post creates one, and until then it has the defaults (upstream)."""
        name = self.validate.queue_name(req.params.get("queue_name"))
        try:
            metadata = self.storage.queues.get_metadata(name, req.project)
        except QueueDoesNotExist:
            metadata = {}
        return Response(200, self.with_defaults(metadata))

    def queue_update(self, req: ScopedRequest) -> Response:
        """Apply a JSON patch (``add``/``replace``/``remove`` on ``/metadata/<key>``).

        The operations are checked before the queue is read (a malformed patch is a 400
        even for a missing queue, whose patch is a 404). An empty list changes nothing
        and answers the metadata, as upstream."""
        name = self.validate.queue_name(req.params.get("queue_name"))
        operations = req.params.get("patch")
        if not isinstance(operations, list):
            raise BadRequest("The request body must be a JSON patch: a list of operations.")
        changes = [self._patch_operation(operation) for operation in operations]
        metadata = copy.deepcopy(self.storage.queues.get_metadata(name, req.project))
        reserved = self.reserved_defaults()
        for op, key, value in changes:
            if op != "add" and key not in metadata and key not in reserved:
                raise Conflict(f"Cannot {op} {key!r}: the queue has no such metadata.",
                               "Unable to patch queue")
            if op == "remove":
                metadata.pop(key, None)
            else:
                metadata[key] = value
        if changes:
            self.validate.metadata(metadata, queue=name)
            self._check_encryption(metadata)
            self.storage.queues.set_metadata(name, req.project, metadata)
            self.metadata_cache.forget(req.project, name)
        return Response(200, self.with_defaults(metadata))

    def _check_encryption(self, metadata: dict[str, Any]) -> None:
        """A queue may turn encryption on only when a key can be had (configured, or
        generated now). Raises BadRequest naming the option to set."""
        if metadata.get("_enable_encrypt_messages") is True:
            try:
                cipher_for(self.conf).require_key()
            except KeyUnavailable as error:
                raise BadRequest(f"_enable_encrypt_messages cannot be true: {error}") from None

    @staticmethod
    def _patch_operation(operation: Any) -> tuple[str, str, Any]:
        """One operation checked: (op, metadata key, value). Reserved keys always exist
        (with their defaults), so replacing or removing one the queue does not set is no
        conflict, as upstream: clients patch back what GET showed them."""
        if not isinstance(operation, dict):
            raise BadRequest("Each JSON patch operation must be an object.")
        op, path = operation.get("op"), operation.get("path")
        if op not in PATCH_OPS:
            raise BadRequest(f"JSON patch op must be one of {', '.join(PATCH_OPS)}.")
        if (not isinstance(path, str) or not path.startswith("/metadata/")
                or path.count("/") != 2 or path == "/metadata/"):
            raise BadRequest("JSON patch path must look like /metadata/<key>.")
        key = path[len("/metadata/"):].replace("~1", "/").replace("~0", "~")
        if op != "remove" and "value" not in operation:
            raise BadRequest(f"JSON patch op {op!r} needs a value.")
        return op, key, operation.get("value")

    def queue_delete(self, req: ScopedRequest) -> Response:
        name = self.validate.queue_name(req.params.get("queue_name"))
        self.storage.queues.delete(name, req.project)
        self.metadata_cache.forget(req.project, name)
        self.storage.subscriptions.purge(name, req.project)
        return Response(204)

    def queue_get_stats(self, req: ScopedRequest) -> Response:
        name = self.validate.queue_name(req.params.get("queue_name"))
        stats = self.storage.queues.stats(name, req.project)
        at = time.time()
        messages: dict[str, Any] = {"free": stats.free, "claimed": stats.claimed,
                                    "total": stats.total}
        if stats.oldest and stats.newest:
            cipher_for(self.conf).open_messages(req.project, [stats.oldest, stats.newest])
            messages["oldest"] = render.stats_end(name, stats.oldest, at)
            messages["newest"] = render.stats_end(name, stats.newest, at)
        return Response(200, {"messages": messages})

    def queue_purge(self, req: ScopedRequest) -> Response:
        """Purge what ``resource_types`` names (both kinds when absent; an empty list
        purges nothing, as upstream)."""
        name = self.validate.queue_name(req.params.get("queue_name"))
        types = req.params.get("resource_types", list(PURGEABLE))
        if not isinstance(types, list) or not all(kind in PURGEABLE for kind in types):
            raise BadRequest("resource_types must be a list of: "
                             f"{', '.join(PURGEABLE)}.")
        if "messages" in types:
            self.storage.purge_messages(name, req.project)
        if "subscriptions" in types:
            self.storage.subscriptions.purge(name, req.project)
        return Response(204)
