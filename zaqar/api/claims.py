"""Claim actions: create, get, update, delete."""
import time

from zaqar.api import render
from zaqar.api.base import Actions
from zaqar.api.encryption import cipher_for
from zaqar.api.errors import BadRequest
from zaqar.api.queues import cached_metadata
from zaqar.api.request import Response, ScopedRequest
from zaqar.api.validation import MIN_CLAIM_GRACE, MIN_CLAIM_TTL
from zaqar.storage.base import DeadLetter

# A renewal may shorten the grace to nothing: upstream checks the grace of a new claim
# only, and clients renew with less (the openstack CLI's ``claim renew --grace 30``).
MIN_RENEWAL_GRACE = 0


class ClaimActions(Actions):
    def _ttl_and_grace(self, req: ScopedRequest, min_grace: int) -> tuple[int, int]:
        v, lim = self.validate, self.limits
        ttl = v.document_int(req.params, "ttl", lim.default_claim_ttl, MIN_CLAIM_TTL,
                             lim.max_claim_ttl)
        grace = v.document_int(req.params, "grace", lim.default_claim_grace, min_grace,
                               lim.max_claim_grace)
        return ttl, grace

    def claim_create(self, req: ScopedRequest) -> Response:
        """201 with the claimed messages, or 204 when nothing is claimable (after up to
        ``wait`` seconds: zaqar.api.long_poll)."""
        queue = self.validate.queue_name(req.params.get("queue_name"))
        limit = self.validate.query_int(req.params, "limit", 10, 1,
                                        self.limits.max_messages_per_claim_or_pop)
        ttl, grace = self._ttl_and_grace(req, MIN_CLAIM_GRACE)
        self.validate.wait(req.params)  # the transport waits (zaqar.api.long_poll)
        claim = self.storage.claims.create(queue, req.project, ttl, grace, limit,
                                           self._dead_letter(queue, req.project))
        if claim is None:
            return Response(204)
        cipher_for(self.conf).open_messages(req.project, claim.messages)
        at = time.time()
        messages = [render.message(queue, msg, at, claim.id) for msg in claim.messages]
        return Response(201, {"claim_id": claim.id, "messages": messages},
                        {"Location": render.claim_href(queue, claim.id)})

    def _dead_letter(self, queue: str, project: str) -> DeadLetter | None:
        """The queue's dead-letter policy: both ``_dead_letter_queue`` and
        ``_max_claim_count`` set, or none (upstream moves nothing without both)."""
        meta = cached_metadata(self, queue, project)
        target, max_claims = meta.get("_dead_letter_queue"), meta.get("_max_claim_count")
        if target is None or max_claims is None:
            return None
        return DeadLetter(target, max_claims, meta.get("_dead_letter_queue_messages_ttl"))

    def claim_get(self, req: ScopedRequest) -> Response:
        """404 for an id that names no live claim, whatever its form."""
        queue = self.validate.queue_name(req.params.get("queue_name"))
        claim_id = self.validate.named_id(req.params, "claim_id")
        claim = self.storage.claims.get(queue, req.project, claim_id)
        cipher_for(self.conf).open_messages(req.project, claim.messages)
        return Response(200, render.claim(queue, claim, time.time()),
                        {"Content-Location": render.claim_href(queue, claim_id)})

    def claim_update(self, req: ScopedRequest) -> Response:
        """Renew a claim from now. An empty request body is refused (400, as upstream's
        REST); ``{}`` renews with the default TTL and grace."""
        if req.body_size == 0:
            raise BadRequest("The request body is empty: send a JSON object with the new "
                             "ttl and/or grace.")
        queue = self.validate.queue_name(req.params.get("queue_name"))
        claim_id = self.validate.named_id(req.params, "claim_id")
        ttl, grace = self._ttl_and_grace(req, MIN_RENEWAL_GRACE)
        self.storage.claims.update(queue, req.project, claim_id, ttl, grace)
        return Response(204)

    def claim_delete(self, req: ScopedRequest) -> Response:
        """204 also for an id that names no claim."""
        queue = self.validate.queue_name(req.params.get("queue_name"))
        claim_id = self.validate.named_id(req.params, "claim_id")
        self.storage.claims.delete(queue, req.project, claim_id)
        return Response(204)
