"""The WSGI wiring of zaqar/auth/keystone.py, with a stand-in for keystonemiddleware's
auth_token (the real one runs in tests/functional/keystone/)."""
import datetime
import io
from types import SimpleNamespace

import pytest

from zaqar.auth import keystone
from zaqar.auth.credentials import Credentials

EXPIRES = datetime.datetime(2030, 1, 1, tzinfo=datetime.UTC)
GOOD = "good-token"


def token_auth(project: str | None = "token-project") -> SimpleNamespace:
    user = SimpleNamespace(user_id="u1", project_id=project, role_names=["member"],
                           expires=EXPIRES)
    return SimpleNamespace(has_user_token=True, user=user)


def fake_auth_token(app, conf):
    """Like auth_token: 401 without the good token; otherwise replaces the identity
    headers (X-Project-Id among them) with the token's, and records the token."""
    def middleware(environ, start_response):
        environ.pop("HTTP_X_PROJECT_ID", None)
        if environ.get("HTTP_X_AUTH_TOKEN") != GOOD:
            start_response("401 Unauthorized", [])
            return [b"no"]
        environ["HTTP_X_PROJECT_ID"] = "token-project"
        environ["keystone.token_auth"] = token_auth()
        return app(environ, start_response)
    return middleware


@pytest.fixture(autouse=True)
def stand_in(monkeypatch):
    monkeypatch.setattr(keystone, "_auth_token", fake_auth_token)


def call(path: str = "/v2/queues", **headers: str) -> tuple[str, dict]:
    environ = {"PATH_INFO": path, "REQUEST_METHOD": "GET", "wsgi.input": io.BytesIO(),
               **{"HTTP_" + name.upper().replace("-", "_"): value
                  for name, value in headers.items()}}
    seen: dict = {}
    statuses: list[str] = []

    def inner(env, start_response):
        seen.update(env)
        start_response("200 OK", [])
        return [b"ok"]

    protected = keystone.protect(inner, conf=None)
    list(protected(environ, lambda status, headers, exc_info=None: statuses.append(status)))
    return statuses[0], seen


def test_only_requests_with_a_valid_token_reach_the_app():
    status, seen = call(**{"X-Auth-Token": "bad"})
    assert status.startswith("401") and not seen
    status, seen = call(**{"X-Auth-Token": GOOD})
    assert status.startswith("200")


def test_the_client_claimed_project_reaches_the_app_not_the_token_one():
    _, seen = call(**{"X-Auth-Token": GOOD, "X-Project-ID": "claimed"})
    assert seen["HTTP_X_PROJECT_ID"] == "claimed"
    assert keystone.credentials_from_environ(seen) == Credentials(
        "u1", "token-project", frozenset({"member"}), EXPIRES.timestamp())
    _, seen = call(**{"X-Auth-Token": GOOD})
    assert "HTTP_X_PROJECT_ID" not in seen  # none claimed: none invented


@pytest.mark.parametrize("path, headers", [
    ("/", {}),
    ("/v2/queues/q/messages", {"URL-Signature": "abc"}),
])
def test_versions_document_and_signed_requests_skip_token_validation(path, headers):
    status, seen = call(path, **headers)
    assert status.startswith("200")
    assert keystone.credentials_from_environ(seen) is None


def test_no_token_auth_in_environ_means_no_credentials():
    assert keystone.credentials_from_environ({}) is None
    assert keystone.credentials_from_environ({"keystone.token_auth": SimpleNamespace(
        has_user_token=False)}) is None


def test_token_validator_reports_identity_or_failure():
    validator = keystone.TokenValidator(conf=None)
    assert validator.validate(GOOD).project_id == "token-project"
    with pytest.raises(keystone.AuthenticationFailed):
        validator.validate("bad")


def test_token_validator_reports_an_unreachable_keystone(monkeypatch):
    def unavailable(app, conf):
        def middleware(environ, start_response):
            start_response("503 Service Unavailable", [])
            return [b"down"]
        return middleware
    monkeypatch.setattr(keystone, "_auth_token", unavailable)
    with pytest.raises(keystone.IdentityServiceUnavailable):
        keystone.TokenValidator(conf=None).validate(GOOD)
