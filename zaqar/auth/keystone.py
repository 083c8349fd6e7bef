"""Keystone: keystonemiddleware's auth_token in front of the REST app, and the same
validation for tokens that arrive another way (a websocket ``authenticate``).

Both read the standard ``[keystone_authtoken]`` section. Requests are never trusted for
who they are: the identity comes from what auth_token validated, read from the WSGI
environ (``keystone.token_auth``), which no client header can set.
"""
import io
from collections.abc import Callable, Iterable
from typing import Any
from wsgiref.types import StartResponse, WSGIApplication, WSGIEnvironment

from oslo_config import cfg

from zaqar.auth.credentials import Credentials

# Where the client's own X-Project-ID waits while auth_token runs (auth_token replaces
# the header with the token's project; the api layer refuses a request whose claimed
# project differs).
CLAIMED_PROJECT = "zaqar.claimed_project"
_IDENTITY = "zaqar.identity"


class AuthenticationFailed(Exception):
    """The token is missing, malformed, expired, revoked or otherwise not valid."""


class IdentityServiceUnavailable(Exception):
    """Keystone could not be asked (down, unreachable, misconfigured service user)."""


def _auth_token(app: WSGIApplication, conf: cfg.ConfigOpts) -> WSGIApplication:
    from keystonemiddleware import auth_token

    middleware: WSGIApplication = auth_token.AuthProtocol(app, {"oslo_config_config": conf})
    return middleware


def credentials_from_environ(environ: WSGIEnvironment) -> Credentials | None:
    """The identity auth_token validated for this request; None when it validated none."""
    token_auth = environ.get("keystone.token_auth")
    if token_auth is None or not token_auth.has_user_token:
        return None
    access = token_auth.user
    expires = access.expires
    return Credentials(user_id=access.user_id, project_id=access.project_id,
                       roles=frozenset(access.role_names or ()),
                       expires_at=expires.timestamp() if expires is not None else None,
                       token=environ.get("HTTP_X_AUTH_TOKEN"))


def protect(app: WSGIApplication, conf: cfg.ConfigOpts) -> WSGIApplication:
    """``app`` behind auth_token: a request without a valid token gets 401.

    Two kinds of request go through unvalidated, as upstream: the versions document at
    ``/`` (clients read it before they authenticate), and requests carrying a pre-signed
    URL signature (``URL-Signature``), which the api layer verifies instead of a token.
    """
    def restore_claimed_project(environ: WSGIEnvironment,
                                start_response: StartResponse) -> Iterable[bytes]:
        claimed = environ.pop(CLAIMED_PROJECT, None)
        if claimed is None:
            environ.pop("HTTP_X_PROJECT_ID", None)
        else:
            environ["HTTP_X_PROJECT_ID"] = claimed
        return app(environ, start_response)

    authenticated = _auth_token(restore_claimed_project, conf)

    def pipeline(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == "/" or "HTTP_URL_SIGNATURE" in environ:
            return app(environ, start_response)
        environ[CLAIMED_PROJECT] = environ.get("HTTP_X_PROJECT_ID")
        return authenticated(environ, start_response)

    return pipeline


class TokenValidator:
    """Validates a token exactly as the REST API does: through an auth_token middleware
    built from the same ``[keystone_authtoken]`` options (same cache, same checks)."""

    def __init__(self, conf: cfg.ConfigOpts) -> None:
        self._middleware = _auth_token(self._accepted, conf)

    @staticmethod
    def _accepted(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        environ[_IDENTITY] = credentials_from_environ(environ)
        start_response("204 No Content", [])
        return []

    def validate(self, token: str) -> Credentials:
        """The identity of a token. Raises AuthenticationFailed, or
        IdentityServiceUnavailable when Keystone cannot say. Blocks (it may ask Keystone)."""
        environ: dict[str, Any] = {
            "REQUEST_METHOD": "GET", "PATH_INFO": "/", "SCRIPT_NAME": "", "QUERY_STRING": "",
            "SERVER_NAME": "localhost", "SERVER_PORT": "80", "SERVER_PROTOCOL": "HTTP/1.1",
            "wsgi.url_scheme": "http", "wsgi.input": io.BytesIO(), "wsgi.errors": io.StringIO(),
            "HTTP_X_AUTH_TOKEN": token,
        }
        statuses: list[str] = []

        def start_response(status: str, headers: Any, exc_info: Any = None) -> Callable[..., Any]:
            statuses.append(status)
            return lambda _data: None

        for _chunk in self._middleware(environ, start_response):
            pass
        status = int(statuses[-1].split()[0]) if statuses else 500
        identity = environ.get(_IDENTITY)
        if status == 204 and isinstance(identity, Credentials):
            return identity
        if status == 401:
            raise AuthenticationFailed("The token is not valid.")
        raise IdentityServiceUnavailable(f"Token validation answered {status}.")
