"""Message actions: post, list, get one/many, delete one/many, pop."""
import time

from zaqar.api import render
from zaqar.api.base import Actions
from zaqar.api.encryption import BodyCipher, Unreadable, UnreadableMessage, cipher_for
from zaqar.api.errors import BadRequest, NotFound
from zaqar.api.queues import cached_metadata
from zaqar.api.request import Response, ScopedRequest
from zaqar.storage import errors as storage_errors


class MessageActions(Actions):
    @property
    def cipher(self) -> BodyCipher:
        return cipher_for(self.conf)

    def message_post(self, req: ScopedRequest) -> Response:
        """Post a batch; the queue is created if it does not exist (v2's lazy queues)."""
        queue = self.validate.queue_name(req.params.get("queue_name"))
        meta = cached_metadata(self, queue, req.project)
        batch = self.validate.messages(req.params.get("messages"), meta, req.body_size)
        if meta.get("_enable_encrypt_messages") is True:
            batch = self.cipher.seal_batch(req.project, batch)
        ids = self.storage.messages.post(queue, req.project, batch, req.client_id)
        location = f"{render.queue_href(queue)}/messages?ids={','.join(ids)}"
        return Response(201, {"resources": [render.message_href(queue, i) for i in ids],
                              "message_ids": ids}, {"Location": location})

    def message_list(self, req: ScopedRequest) -> Response:
        v = self.validate
        queue = v.queue_name(req.params.get("queue_name"))
        limit = v.query_int(req.params, "limit", 10, 1, self.limits.max_messages_per_page)
        marker = v.marker(req.params)
        echo = v.flag(req.params, "echo")
        include_claimed = v.flag(req.params, "include_claimed")
        include_delayed = v.flag(req.params, "include_delayed")
        v.wait(req.params)  # the transport waits (zaqar.api.long_poll)
        found = self.cipher.open_messages(req.project, self.storage.messages.list(
            queue, req.project, req.client_id, marker, limit, echo, include_claimed,
            include_delayed))
        at = time.time()
        links = render.next_link(f"{render.V2}/queues/{queue}/messages", {
            "marker": found[-1].id, "limit": limit, "echo": echo,
            "include_claimed": include_claimed, "include_delayed": include_delayed,
        }) if found else []
        return Response(200, {"messages": [render.message(queue, msg, at) for msg in found],
                              "links": links})

    def message_get(self, req: ScopedRequest) -> Response:
        """404 for an id that names no live message, whatever its form."""
        queue = self.validate.queue_name(req.params.get("queue_name"))
        message_id = self.validate.named_id(req.params, "message_id")
        found = self.storage.messages.get(queue, req.project, message_id)
        body = self.cipher.open(req.project, found.body)
        if isinstance(body, Unreadable):
            raise UnreadableMessage(message_id, body)
        found.body = body
        return Response(200, render.message(queue, found))

    def message_get_many(self, req: ScopedRequest) -> Response:
        """The live messages among ``message_ids``; 404 when none is (upstream's REST)."""
        queue = self.validate.queue_name(req.params.get("queue_name"))
        ids = self.validate.id_list(req.params, "message_ids")
        if ids is None:
            raise BadRequest("message_ids is required: a list of message ids.")
        found = self.cipher.open_messages(
            req.project, self.storage.messages.bulk_get(queue, req.project, ids))
        if not found:
            raise NotFound(f"No messages with ids {', '.join(ids)} in queue {queue!r}.",
                           "Messages not found")
        at = time.time()
        return Response(200, {"messages": [render.message(queue, msg, at) for msg in found]})

    def message_delete(self, req: ScopedRequest) -> Response:
        """204 also for an id that names no message. A claimed message needs the id of
        the live claim holding it: none is 403, another live claim's is 403, and one
        that is no live claim at all is 400 (upstream's statuses)."""
        queue = self.validate.queue_name(req.params.get("queue_name"))
        message_id = self.validate.named_id(req.params, "message_id")
        if req.params.get("claim_id") is None:
            self.storage.messages.delete(queue, req.project, message_id)
            return Response(204)
        claim_id = self.validate.named_id(req.params, "claim_id")
        try:
            self.storage.messages.delete(queue, req.project, message_id, claim_id)
        except storage_errors.MessageNotClaimedBy:
            if not self._claim_is_live(queue, req.project, claim_id):
                raise BadRequest(f"Claim {claim_id!r} does not exist in queue {queue!r} or "
                                 "has expired.", "Unable to delete") from None
            raise
        return Response(204)

    def _claim_is_live(self, queue: str, project: str, claim_id: str) -> bool:
        try:
            self.storage.claims.get(queue, project, claim_id)
        except storage_errors.ClaimDoesNotExist:
            return False
        return True

    def message_delete_many(self, req: ScopedRequest) -> Response:
        """Delete by ``message_ids`` (with ``claim_ids`` to prove ownership), or ``pop``."""
        v = self.validate
        queue = v.queue_name(req.params.get("queue_name"))
        ids = v.id_list(req.params, "message_ids")
        claim_ids = v.id_list(req.params, "claim_ids")
        pop = req.params.get("pop")
        if (ids is None) == (pop is None):
            raise BadRequest("Give either message_ids or pop, not both and not neither.")
        if ids is None:  # so pop is given
            if claim_ids is not None:
                raise BadRequest("claim_ids goes with message_ids, not with pop.")
            return self._pop(queue, req)
        self.storage.messages.bulk_delete(queue, req.project, ids, claim_ids)
        return Response(204)

    def message_pop(self, req: ScopedRequest) -> Response:
        return self._pop(self.validate.queue_name(req.params.get("queue_name")), req)

    def _pop(self, queue: str, req: ScopedRequest) -> Response:
        limit = self.validate.query_int(req.params, "pop", 1, 1,
                                        self.limits.max_messages_per_claim_or_pop)
        popped = self.cipher.open_messages(
            req.project, self.storage.messages.pop(queue, req.project, limit))
        at = time.time()
        return Response(200, {"messages": [render.popped(msg, at) for msg in popped]})
