"""Typed storage errors. Drivers raise these; the api layer maps each to a status once."""


class StorageError(Exception):
    """Base of every error a storage driver raises on purpose."""


class DoesNotExist(StorageError):
    """The named resource is not stored (or has expired)."""


class QueueDoesNotExist(DoesNotExist):
    def __init__(self, name: str, project: str) -> None:
        super().__init__(f"Queue {name!r} does not exist in project {project!r}.")


class MessageDoesNotExist(DoesNotExist):
    def __init__(self, message_id: str, queue: str) -> None:
        super().__init__(f"Message {message_id!r} does not exist in queue {queue!r}.")


class ClaimDoesNotExist(DoesNotExist):
    def __init__(self, claim_id: str, queue: str) -> None:
        super().__init__(f"Claim {claim_id!r} does not exist in queue {queue!r} or has expired.")


class SubscriptionDoesNotExist(DoesNotExist):
    def __init__(self, subscription_id: str) -> None:
        super().__init__(f"Subscription {subscription_id!r} does not exist.")


class MessageIsClaimed(StorageError):
    """A delete named no claim, but the message is held by a live claim."""

    def __init__(self, message_id: str) -> None:
        super().__init__(f"Message {message_id!r} is claimed; give its claim id to delete it.")


class MessageNotClaimed(StorageError):
    """A delete named a claim, but the message is not claimed at all."""

    def __init__(self, message_id: str) -> None:
        super().__init__(f"A claim was given, but message {message_id!r} is not claimed.")


class MessageNotClaimedBy(StorageError):
    """A delete named a claim other than the live one holding the message."""

    def __init__(self, message_id: str, claim_id: str) -> None:
        super().__init__(f"Message {message_id!r} is not held by claim {claim_id!r}; "
                         "the claim does not exist or has expired.")


class SubscriptionAlreadyExists(StorageError):
    def __init__(self, subscriber: str, queue: str) -> None:
        super().__init__(f"Queue {queue!r} already has a subscription for {subscriber!r}.")


class StorageUnavailable(StorageError):
    """The engine cannot be reached or refused the operation for a transient reason."""
