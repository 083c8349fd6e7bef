"""Service actions: ping and health."""
from zaqar.api.base import Actions
from zaqar.api.errors import ServiceUnavailable
from zaqar.api.request import Request, Response


class HealthActions(Actions):
    def ping(self, req: Request) -> Response:
        """204 while storage answers, 503 otherwise."""
        if not self.storage.is_alive():
            raise ServiceUnavailable("The storage backend is not reachable.")
        return Response(204)

    def health(self, req: Request) -> Response:
        alive = self.storage.is_alive()
        body = {"storage_reachable": alive, "catalog_reachable": alive,
                "operation_status": {}}
        return Response(200 if alive else 503, body)
