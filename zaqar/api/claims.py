"""Claim actions: create, get, update, delete."""
import time

from zaqar.api import render
from zaqar.api.base import Actions
from zaqar.api.request import Response, ScopedRequest
from zaqar.api.validation import MIN_CLAIM_GRACE, MIN_CLAIM_TTL


class ClaimActions(Actions):
    def _ttl_and_grace(self, req: ScopedRequest) -> tuple[int, int]:
        v, lim = self.validate, self.limits
        ttl = v.document_int(req.params, "ttl", lim.default_claim_ttl, MIN_CLAIM_TTL,
                             lim.max_claim_ttl)
        grace = v.document_int(req.params, "grace", lim.default_claim_grace, MIN_CLAIM_GRACE,
                               lim.max_claim_grace)
        return ttl, grace

    def claim_create(self, req: ScopedRequest) -> Response:
        """201 with the claimed messages, or 204 when nothing is claimable."""
        queue = self.validate.queue_name(req.params.get("queue_name"))
        limit = self.validate.query_int(req.params, "limit", 10, 1,
                                        self.limits.max_messages_per_claim_or_pop)
        ttl, grace = self._ttl_and_grace(req)
        claim = self.storage.claims.create(queue, req.project, ttl, grace, limit)
        if claim is None:
            return Response(204)
        at = time.time()
        messages = [render.message(queue, msg, at, claim.id) for msg in claim.messages]
        return Response(201, {"claim_id": claim.id, "messages": messages},
                        {"Location": render.claim_href(queue, claim.id)})

    def claim_get(self, req: ScopedRequest) -> Response:
        queue = self.validate.queue_name(req.params.get("queue_name"))
        claim_id = self.validate.resource_id(req.params, "claim_id")
        claim = self.storage.claims.get(queue, req.project, claim_id)
        return Response(200, render.claim(queue, claim, time.time()),
                        {"Content-Location": render.claim_href(queue, claim_id)})

    def claim_update(self, req: ScopedRequest) -> Response:
        queue = self.validate.queue_name(req.params.get("queue_name"))
        claim_id = self.validate.resource_id(req.params, "claim_id")
        ttl, grace = self._ttl_and_grace(req)
        self.storage.claims.update(queue, req.project, claim_id, ttl, grace)
        return Response(204)

    def claim_delete(self, req: ScopedRequest) -> Response:
        queue = self.validate.queue_name(req.params.get("queue_name"))
        claim_id = self.validate.resource_id(req.params, "claim_id")
        self.storage.claims.delete(queue, req.project, claim_id)
        return Response(204)
