"""The shared controller layer: every action of the service, transport-neutral.

Transports build a :class:`Request`, call :meth:`Api.dispatch` with an action name, and
render the :class:`Response`. Validation, limits, defaults and the mapping of storage
errors to statuses all live here, once.
"""
import logging
from collections.abc import Callable
from typing import Any, cast

from oslo_config import cfg

from zaqar.api import errors, registry
from zaqar.api.access import AccessControl
from zaqar.api.claims import ClaimActions
from zaqar.api.flavors import FlavorActions
from zaqar.api.health import HealthActions
from zaqar.api.messages import MessageActions
from zaqar.api.metadata_cache import QueueMetadataCache
from zaqar.api.pools import PoolActions
from zaqar.api.queues import QueueActions
from zaqar.api.request import Request, Response, ScopedRequest
from zaqar.api.share import ShareActions
from zaqar.api.subscriptions import SubscriptionActions
from zaqar.api.topics import TopicActions
from zaqar.api.validation import Validator
from zaqar.storage import errors as storage_errors
from zaqar.storage import management
from zaqar.storage.base import DataDriver
from zaqar.storage.management import ManagementDriver

LOG = logging.getLogger(__name__)

__all__ = ["Api", "Request", "Response", "ScopedRequest", "errors", "registry"]

# Storage errors as the wire sees them: (api error class, title).
_STORAGE_ERRORS: tuple[tuple[type[storage_errors.StorageError], type[errors.ApiError], str],
                       ...] = (
    (storage_errors.QueueDoesNotExist, errors.NotFound, "Queue not found"),
    (storage_errors.MessageDoesNotExist, errors.NotFound, "Message not found"),
    (storage_errors.ClaimDoesNotExist, errors.NotFound, "Claim not found"),
    (storage_errors.SubscriptionDoesNotExist, errors.NotFound, "Subscription not found"),
    (storage_errors.MessageIsClaimed, errors.Forbidden, "Unable to delete"),
    # Upstream: a claim id for an unclaimed message is a bad request, not a refusal.
    (storage_errors.MessageNotClaimed, errors.BadRequest, "Unable to delete"),
    (storage_errors.MessageNotClaimedBy, errors.Forbidden, "Unable to delete"),
    (storage_errors.SubscriptionAlreadyExists, errors.Conflict, "Subscription already exists"),
    (storage_errors.StorageUnavailable, errors.ServiceUnavailable,
     "Service temporarily unavailable"),
    # Pooling: a queue's _flavor naming no flavor of its project is bad input (400, as
    # upstream); no pool taking new queues is 503 (upstream: "could not be created").
    (management.QueueFlavorDoesNotExist, errors.BadRequest, "Invalid API request"),
    (management.NoPoolFound, errors.ServiceUnavailable, "Service temporarily unavailable"),
    (management.QueueNotMovable, errors.Conflict, "Unable to update"),
    (management.PoolDoesNotExist, errors.NotFound, "Not found"),
    (management.FlavorDoesNotExist, errors.NotFound, "Not found"),
    (management.PoolAlreadyExists, errors.Conflict, "Resource conflict"),
    # Upstream refuses a pool its flavor still needs with 403; ours a pool holding queues.
    (management.PoolInUse, errors.Forbidden, "Unable to delete"),
)


def to_api_error(error: storage_errors.StorageError) -> errors.ApiError:
    for storage_class, api_class, title in _STORAGE_ERRORS:
        if isinstance(error, storage_class):
            return api_class(str(error), title)
    return errors.ServiceUnavailable(str(error))


class Api:
    """All actions over one storage driver, and the management store (pools, flavors)
    when ``[DEFAULT] pooling`` is on (None otherwise)."""

    def __init__(self, storage: DataDriver, conf: cfg.ConfigOpts,
                 management: ManagementDriver | None = None) -> None:
        self.storage = storage
        self.management = management
        self.validate = Validator(conf)
        self.access = AccessControl(conf, self.validate)
        metadata_cache = QueueMetadataCache(conf.transport.queue_metadata_cache_ttl)
        groups: list[object] = [cls(storage, self.validate, conf, metadata_cache) for cls in (
            QueueActions, MessageActions, ClaimActions, SubscriptionActions, HealthActions,
            ShareActions, TopicActions)]
        groups += [cls(storage, management, self.validate, conf)
                   for cls in (PoolActions, FlavorActions)]
        # Every name the websocket API answers to (aliases included) -> its handler.
        self.actions: dict[str, Callable[[ScopedRequest], Response]] = {}
        for action in registry.served(conf.admin_mode, conf.pooling):
            handlers = [getattr(group, action.name) for group in groups
                        if hasattr(group, action.name)]
            if len(handlers) != 1:
                raise TypeError(f"Action {action.name!r} needs exactly one handler, found "
                                f"{len(handlers)}.")
            for name in (action.name, *action.aliases):
                self.actions[name] = handlers[0]
        self.queues = cast(QueueActions, groups[0])

    def dispatch(self, action: str, req: Request) -> Response:
        """Run one action for a caller (see zaqar.api.access for who may). Raises
        ApiError (BadRequest for an unknown action, Forbidden when the caller may not)."""
        if action not in self.actions:
            raise errors.BadRequest(f"Unknown action {action!r}.", "Invalid action")
        scoped = self.scope(action, req)
        self.validate.json_document(req.params)
        return self.run(action, scoped)

    def scope(self, action: str, req: Request) -> ScopedRequest:
        """``req`` with its Client-ID checked and the project it may run ``action`` in.

        Raises BadRequest (a malformed Client-ID or project) or Forbidden (the caller may
        not run the action).
        """
        client_id = self.validate.client_id(req.client_id)
        return req.scoped(self.access.project(registry.WEBSOCKET_NAMES[action], req),
                          client_id)

    def run(self, action: str, req: ScopedRequest) -> Response:
        """Run an action for a request whose project and caller were already checked:
        the server acting on its own (websocket push for a subscription it accepted)."""
        return self._call(action, self.actions[action], req)

    def _call(self, action: str, handler: Callable[[Any], Response], req: Request) -> Response:
        try:
            return handler(req)
        except storage_errors.StorageError as error:
            raise to_api_error(error) from error
        except self.storage.transient_errors as error:
            LOG.warning("Storage unavailable during %s: %s", action, error)
            raise errors.ServiceUnavailable(
                "The storage backend is unavailable; try again shortly.") from error
