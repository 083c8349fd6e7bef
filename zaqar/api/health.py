"""Service actions: ping, health and the JSON home document."""
from zaqar.api.base import Actions
from zaqar.api.errors import ServiceUnavailable
from zaqar.api.home import home_document
from zaqar.api.registry import served
from zaqar.api.request import Response, ScopedRequest

# The home document never changes while the server runs; upstream lets caches keep it a day.
_HOME_HEADERS = {"Content-Type": "application/json-home", "Cache-Control": "max-age=86400"}


class HealthActions(Actions):
    def ping(self, req: ScopedRequest) -> Response:
        """204 while storage answers, 503 otherwise."""
        if not self.storage.is_alive():
            raise ServiceUnavailable("The storage backend is not reachable.")
        return Response(204)

    def health(self, req: ScopedRequest) -> Response:
        alive = self.storage.is_alive()
        body = {"storage_reachable": alive, "catalog_reachable": alive,
                "operation_status": {}}
        return Response(200 if alive else 503, body)

    def get_home_doc(self, req: ScopedRequest) -> Response:
        document = home_document(served(self.conf.admin_mode, self.conf.pooling))
        return Response(200, document, dict(_HOME_HEADERS))
