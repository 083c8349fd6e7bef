"""Service actions: ping, health and the JSON home document."""
from zaqar.api.base import Actions
from zaqar.api.errors import ServiceUnavailable
from zaqar.api.home import home_document
from zaqar.api.registry import served
from zaqar.api.request import Response, ScopedRequest
from zaqar.storage.pooling import PooledDriver

# The home document never changes while the server runs; upstream lets caches keep it a day.
_HOME_HEADERS = {"Content-Type": "application/json-home", "Cache-Control": "max-age=86400"}


class HealthActions(Actions):
    def ping(self, req: ScopedRequest) -> Response:
        """204 while storage answers, 503 otherwise."""
        if not self.storage.is_alive():
            raise ServiceUnavailable("The storage backend is not reachable.")
        return Response(204)

    def health(self, req: ScopedRequest) -> Response:
        """200 while storage answers, 503 otherwise, with what was found. With pooling,
        as upstream: ``catalog_reachable`` (the management store) and an entry per pool
        by its name; ours adds ``storage_reachable`` (every pool answers)."""
        if isinstance(self.storage, PooledDriver):
            return _pooled_health(self.storage)
        alive = self.storage.is_alive()
        body = {"storage_reachable": alive, "catalog_reachable": alive,
                "operation_status": {}}
        return Response(200 if alive else 503, body)

    def get_home_doc(self, req: ScopedRequest) -> Response:
        document = home_document(served(self.conf.admin_mode, self.conf.pooling))
        return Response(200, document, dict(_HOME_HEADERS))


def _pooled_health(storage: PooledDriver) -> Response:
    """Upstream's per-pool entry holds the pool's ``storage_reachable`` and an
    ``operation_status`` (empty here, as our single store's: we run no test operations);
    the summary keys come last, so a pool named like one cannot hide them."""
    found = storage.pool_health()
    body: dict[str, object] = {
        name: {"storage_reachable": alive, "operation_status": {}}
        for name, alive in found.pools.items()}
    body["catalog_reachable"] = found.catalog_reachable
    body["storage_reachable"] = found.storage_reachable
    return Response(200 if found.storage_reachable else 503, body)
