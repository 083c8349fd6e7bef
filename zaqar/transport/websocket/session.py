"""A connection's authentication: the identity its ``authenticate`` established, and the
timer that ends it when the token expires."""
import time
from collections.abc import Callable
from typing import Any

from zaqar.auth.credentials import Credentials


class ConnectionAuth:
    """``credentials`` is None until a successful ``authenticate`` (and again after a
    failed one, or once the token expired, when ``on_expired`` is called)."""

    def __init__(self, reactor: Any, on_expired: Callable[[], None]) -> None:
        self._reactor = reactor
        self._on_expired = on_expired
        self._timer: Any = None
        self.credentials: Credentials | None = None

    def set(self, credentials: Credentials | None) -> None:
        self.clear()
        self.credentials = credentials
        if credentials is not None and credentials.expires_at is not None:
            delay = max(0.0, credentials.expires_at - time.time())
            self._timer = self._reactor.callLater(delay, self._expired)

    def clear(self) -> None:
        """Forget the identity (the connection closed, or authenticates again)."""
        self.credentials = None
        if self._timer is not None and self._timer.active():
            self._timer.cancel()
        self._timer = None

    def _expired(self) -> None:
        self._timer = None
        self.credentials = None
        self._on_expired()
