"""ConnectionAuth of zaqar/transport/websocket/session.py: the identity of a connection
ends when its token expires, on a fake clock."""
import time

from twisted.internet.task import Clock

from zaqar.auth.credentials import Credentials
from zaqar.transport.websocket.session import ConnectionAuth


def credentials(expires_in: float | None) -> Credentials:
    return Credentials(user_id="u", project_id="p",
                       expires_at=None if expires_in is None else time.time() + expires_in)


def test_identity_ends_and_the_callback_runs_when_the_token_expires():
    clock, expired = Clock(), []
    auth = ConnectionAuth(clock, lambda: expired.append(True))
    auth.set(credentials(30))
    clock.advance(29)
    assert auth.credentials is not None and not expired
    clock.advance(2)
    assert auth.credentials is None and expired == [True]


def test_authenticating_again_replaces_the_timer():
    clock, expired = Clock(), []
    auth = ConnectionAuth(clock, lambda: expired.append(True))
    auth.set(credentials(10))
    auth.set(credentials(100))
    clock.advance(50)
    assert auth.credentials is not None and not expired


def test_clear_cancels_the_timer():
    clock, expired = Clock(), []
    auth = ConnectionAuth(clock, lambda: expired.append(True))
    auth.set(credentials(10))
    auth.clear()
    clock.advance(60)
    assert auth.credentials is None and not expired
    assert not clock.getDelayedCalls()


def test_token_without_expiry_sets_no_timer():
    clock = Clock()
    auth = ConnectionAuth(clock, lambda: None)
    auth.set(credentials(None))
    assert auth.credentials is not None and not clock.getDelayedCalls()
