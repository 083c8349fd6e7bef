"""Fixtures of the tests against a real Keystone: Keystone itself, its projects and users,
and a ``zaqar-server`` with ``auth_strategy = keystone`` in front of it.

The ``keystone`` package comes from PyPI in a tox env of its own (``tox -e keystone``).
Where it is not installed these tests are skipped, except with ``CI`` set: then they
fail, as does a Keystone that is installed but cannot be set up or started.
"""
import functools
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from tests.functional.conftest import Rest, ServerProcess, _free_ports, running_server
from tests.functional.keystone.keystone_server import (
    Identity,
    KeystoneServer,
    KeystoneUnavailable,
    keystone_installed,
    start_keystone,
)

PASSWORD = "user-password-1"
SERVICE_PASSWORD = "zaqar-service-password-1"
SECRET_KEY = "signed-url-secret-key-1"
ALLOWED_ORIGIN = "http://dashboard.test"
TOKEN_CACHE_TIME = 5  # seconds


@pytest.fixture(scope="session")
def keystone(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KeystoneServer]:
    if not keystone_installed():
        message = ("the keystone package is not installed in this virtualenv; run "
                   "`tox -e keystone`")
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the Keystone tests, but {message}", pytrace=False)
        pytest.skip(message)
    directory = tmp_path_factory.mktemp("keystone")
    try:
        with start_keystone(directory, *_free_ports(2)) as server:
            yield server
    except KeystoneUnavailable as error:
        pytest.fail(f"Keystone could not be started: {error}", pytrace=False)


@dataclass
class Accounts:
    """Who exists in Keystone: two projects, their members, an admin, and a user with no
    role anywhere (who can only get unscoped tokens)."""

    identity: Identity
    project_a: str  # ids
    project_b: str

    def token(self, user: str, project: str | None = "project-a", **kwargs: Any) -> str:
        return self.identity.token(user, PASSWORD, project and f"zaqar-{project}", **kwargs)

    # Tokens of the session (a test that revokes one asks for its own with token()).
    @functools.cached_property
    def alice(self) -> str:
        """A member of project A."""
        return self.token("alice")

    @functools.cached_property
    def bob(self) -> str:
        """A member of project B."""
        return self.token("bob", "project-b")

    @functools.cached_property
    def carol(self) -> str:
        """An admin of project A."""
        return self.token("carol")


@pytest.fixture(scope="session")
def accounts(keystone: KeystoneServer) -> Accounts:
    identity = Identity(keystone)
    project_a = identity.project("zaqar-project-a")
    project_b = identity.project("zaqar-project-b")
    service = identity.project("service")
    identity.user("alice", PASSWORD, project_a, "member")
    identity.user("bob", PASSWORD, project_b, "member")
    identity.user("carol", PASSWORD, project_a, "admin", "member")
    identity.user("dave", PASSWORD, project_a)  # no role: unscoped tokens only
    identity.user("zaqar", SERVICE_PASSWORD, service, "service")
    return Accounts(identity, project_a, project_b)


def keystone_config(keystone: KeystoneServer) -> str:
    """What an operator writes to run zaqar-server behind Keystone (README's sample)."""
    return (
        "[DEFAULT]\n"
        "auth_strategy = keystone\n"
        "admin_mode = true\n"  # serves /v2/health, whose policy the tests check
        "\n[keystone_authtoken]\n"
        f"www_authenticate_uri = {keystone.url}\n"
        f"auth_url = {keystone.url}\n"
        "auth_type = password\n"
        "username = zaqar\n"
        f"password = {SERVICE_PASSWORD}\n"
        "project_name = service\n"
        "user_domain_name = Default\n"
        "project_domain_name = Default\n"
        "interface = public\n"
        # Validated tokens are cached this long (default 300 s): a revoked token still
        # works until then. Short here, so the revocation tests need not wait long.
        f"token_cache_time = {TOKEN_CACHE_TIME}\n"
        "\n[signed_url]\n"
        f"secret_key = {SECRET_KEY}\n"
        "\n[cors]\n"
        f"allowed_origin = {ALLOWED_ORIGIN}\n")


@pytest.fixture(scope="session")
def zaqar(keystone: KeystoneServer, accounts: Accounts,
          tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """zaqar-server, both transports, behind Keystone."""
    with running_server(tmp_path_factory.mktemp("zaqar-keystone"), keystone_config(keystone),
                        websocket_ready=True) as server:
        yield server


class Client(Rest):
    """REST requests with one token (or none) and a Client-ID of its own; the project
    header only when given (with Keystone the token names the project)."""

    def __init__(self, url: str, token: str | None, project: str | None = None) -> None:
        super().__init__(url, project)
        if project is None:
            del self.session.headers["X-Project-ID"]
        if token is not None:
            self.session.headers["X-Auth-Token"] = token


@pytest.fixture
def alice(zaqar: ServerProcess, accounts: Accounts) -> Client:
    return Client(zaqar.url, accounts.alice)


@pytest.fixture
def bob(zaqar: ServerProcess, accounts: Accounts) -> Client:
    return Client(zaqar.url, accounts.bob)


@pytest.fixture
def queue_name() -> str:
    return f"q-{uuid.uuid4().hex[:12]}"
