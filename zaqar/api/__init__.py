"""The shared controller layer: every action of the service, transport-neutral.

Transports build a :class:`Request`, call :meth:`Api.dispatch` with an action name, and
render the :class:`Response`. Validation, limits, defaults and the mapping of storage
errors to statuses all live here, once.
"""
import logging
from collections.abc import Callable

from oslo_config import cfg

from zaqar.api import errors
from zaqar.api.claims import ClaimActions
from zaqar.api.health import HealthActions
from zaqar.api.messages import MessageActions
from zaqar.api.queues import QueueActions
from zaqar.api.request import Request, Response
from zaqar.api.subscriptions import SubscriptionActions
from zaqar.api.validation import Validator
from zaqar.storage import errors as storage_errors
from zaqar.storage.base import DataDriver

LOG = logging.getLogger(__name__)

__all__ = ["Api", "Request", "Response", "errors"]

ACTION_NAMES = (
    "queue_create", "queue_list", "queue_get", "queue_update", "queue_delete",
    "queue_get_stats", "queue_purge",
    "message_post", "message_list", "message_get", "message_get_many", "message_delete",
    "message_delete_many", "message_pop",
    "claim_create", "claim_get", "claim_update", "claim_delete",
    "subscription_create", "subscription_list", "subscription_get", "subscription_update",
    "subscription_delete", "subscription_confirm",
    "ping", "health",
)

# Health probes answer without a project; everything else is scoped by one.
_PROJECTLESS = frozenset({"ping", "health"})

# Storage errors as the wire sees them: (api error class, title).
_STORAGE_ERRORS: tuple[tuple[type[storage_errors.StorageError], type[errors.ApiError], str],
                       ...] = (
    (storage_errors.QueueDoesNotExist, errors.NotFound, "Queue not found"),
    (storage_errors.MessageDoesNotExist, errors.NotFound, "Message not found"),
    (storage_errors.ClaimDoesNotExist, errors.NotFound, "Claim not found"),
    (storage_errors.SubscriptionDoesNotExist, errors.NotFound, "Subscription not found"),
    (storage_errors.MessageIsClaimed, errors.Forbidden, "Unable to delete"),
    (storage_errors.MessageNotClaimed, errors.Forbidden, "Unable to delete"),
    (storage_errors.MessageNotClaimedBy, errors.Forbidden, "Unable to delete"),
    (storage_errors.SubscriptionAlreadyExists, errors.Conflict, "Subscription already exists"),
    (storage_errors.StorageUnavailable, errors.ServiceUnavailable,
     "Service temporarily unavailable"),
)


def to_api_error(error: storage_errors.StorageError) -> errors.ApiError:
    for storage_class, api_class, title in _STORAGE_ERRORS:
        if isinstance(error, storage_class):
            return api_class(str(error), title)
    return errors.ServiceUnavailable(str(error))


class Api:
    """All actions over one storage driver."""

    def __init__(self, storage: DataDriver, conf: cfg.ConfigOpts) -> None:
        self.storage = storage
        self.validate = Validator(conf)
        groups = [cls(storage, self.validate, conf) for cls in (
            QueueActions, MessageActions, ClaimActions, SubscriptionActions, HealthActions)]
        self.actions: dict[str, Callable[[Request], Response]] = {}
        for name in ACTION_NAMES:
            for group in groups:
                if hasattr(group, name):
                    self.actions[name] = getattr(group, name)
        self.queues = groups[0]

    def dispatch(self, action: str, req: Request) -> Response:
        """Run one action. Raises ApiError (BadRequest for an unknown action)."""
        handler = self.actions.get(action)
        if handler is None:
            raise errors.BadRequest(f"Unknown action {action!r}.", "Invalid action")
        req.client_id = self.validate.client_id(req.client_id)
        if action not in _PROJECTLESS:
            req.project = self.validate.project_id(req.project)
        try:
            return handler(req)
        except storage_errors.StorageError as error:
            raise to_api_error(error) from error
