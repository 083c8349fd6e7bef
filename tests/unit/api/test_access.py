"""Access control of zaqar/api/access.py as Api.dispatch applies it: the project a
request runs in, Keystone credentials, policy, and pre-signed URLs.

No Keystone here: credentials are what a transport would hand over after validating a
token (tests/functional/keystone/ runs the same rules against a real Keystone).
"""
from collections.abc import Iterator

import pytest

from tests.conftest import make_conf
from zaqar.api import Api, Request, Response
from zaqar.api.errors import BadRequest, Forbidden, ServiceUnavailable, Unauthorized
from zaqar.auth.credentials import Credentials
from zaqar.auth.keystone import AuthenticationFailed, IdentityServiceUnavailable
from zaqar.auth.signed_url import SignedHeaders
from zaqar.notification import base as notification
from zaqar.storage.base import topic_project
from zaqar.storage.sqlalchemy import tables
from zaqar.storage.sqlalchemy.driver import SqlDriver

CLIENT = "3381af92-2b9e-11e3-b191-71861300734c"
KEY = "unit-test-key"
ALICE = Credentials(user_id="alice", project_id="project-a", roles=frozenset({"member"}))
ADMIN = Credentials(user_id="root", project_id="project-a", roles=frozenset({"admin"}))
UNSCOPED = Credentials(user_id="alice", project_id=None)


@pytest.fixture(scope="module")
def storage(tmp_path_factory) -> Iterator[SqlDriver]:
    driver = SqlDriver(make_conf(tmp_path_factory.mktemp("access")))
    driver.prepare()
    yield driver
    driver.close()


@pytest.fixture
def empty(storage) -> SqlDriver:
    with storage.writer.begin() as conn:
        for table in reversed(tables.metadata.sorted_tables):
            conn.execute(table.delete())
    return storage


@pytest.fixture
def keystone_api(empty, tmp_path) -> Api:
    return Api(empty, make_conf(tmp_path, DEFAULT={"auth_strategy": "keystone",
                                                   "admin_mode": True},
                                signed_url={"secret_key": KEY}))


@pytest.fixture
def open_api(empty, tmp_path) -> Api:
    return Api(empty, make_conf(tmp_path, DEFAULT={"admin_mode": True},
                                signed_url={"secret_key": KEY}))


def call(api: Api, action: str, project: str | None = None,
         credentials: Credentials | None = None, signature: SignedHeaders | None = None,
         **params: object) -> Response:
    return api.dispatch(action, Request(project, CLIENT, dict(params), credentials=credentials,
                                        signature=signature))


def signed(document: dict, **changes: str) -> SignedHeaders:
    sent = {"URL-Signature": document["signature"], "URL-Expires": document["expires"],
            "URL-Methods": ",".join(document["methods"]),
            "URL-Paths": ",".join(document["paths"]), "X-Project-ID": document["project"]}
    sent.update(changes)
    headers = SignedHeaders.from_headers(sent.get)
    assert headers is not None
    return headers


# -- Keystone credentials --------------------------------------------------------------

def test_token_project_scopes_the_request_without_x_project_id(keystone_api):
    call(keystone_api, "queue_create", credentials=ALICE, queue_name="q")
    listed = call(keystone_api, "queue_list", credentials=ALICE).body["queues"]
    assert [queue["name"] for queue in listed] == ["q"]
    assert keystone_api.storage.queues.exists("q", "project-a")


def test_x_project_id_of_the_token_is_accepted(keystone_api):
    assert call(keystone_api, "queue_create", "project-a", ALICE, queue_name="q").status == 201


def test_x_project_id_of_another_project_is_refused_and_touches_nothing(keystone_api):
    with pytest.raises(Forbidden):
        call(keystone_api, "queue_create", "project-b", ALICE, queue_name="q")
    assert not keystone_api.storage.queues.exists("q", "project-b")
    assert not keystone_api.storage.queues.exists("q", "project-a")


def test_request_without_credentials_is_refused_when_keystone_is_on(keystone_api):
    with pytest.raises(Forbidden):
        call(keystone_api, "queue_list", "project-a")
    with pytest.raises(Forbidden):
        call(keystone_api, "ping")


def test_unscoped_token_is_refused(keystone_api):
    with pytest.raises(Forbidden):
        call(keystone_api, "queue_list", credentials=UNSCOPED)


def test_health_needs_the_admin_role(keystone_api):
    with pytest.raises(Forbidden):
        call(keystone_api, "health", credentials=ALICE)
    assert call(keystone_api, "health", credentials=ADMIN).status == 200
    assert call(keystone_api, "ping", credentials=ALICE).status == 204


def test_without_keystone_x_project_id_scopes_and_credentials_are_not_needed(open_api):
    assert call(open_api, "queue_create", "project-b", queue_name="q").status == 201
    assert call(open_api, "health", "project-b").status == 200
    for action in ("queue_list", "ping", "health"):  # no project at all: upstream's 400
        with pytest.raises(BadRequest):
            call(open_api, action)


# -- pre-signed URLs ---------------------------------------------------------------------

def test_signed_request_runs_without_credentials_in_the_signed_project(keystone_api):
    call(keystone_api, "queue_create", credentials=ALICE, queue_name="q")
    document = call(keystone_api, "queue_share", credentials=ALICE, queue_name="q",
                    methods=["GET", "POST"]).body
    assert document["project"] == "project-a"
    headers = signed(document)
    call(keystone_api, "message_post", "project-a", signature=headers, queue_name="q",
         messages=[{"body": "shared"}])
    listed = call(keystone_api, "message_list", "project-a", signature=headers,
                  queue_name="q", echo=True)
    assert [message["body"] for message in listed.body["messages"]] == ["shared"]


@pytest.mark.parametrize("action, params", [
    ("message_delete_many", {"queue_name": "q", "message_ids": ["1"]}),  # DELETE not signed
    ("claim_create", {"queue_name": "q"}),  # claims not signed
    ("message_list", {"queue_name": "other"}),  # another queue
    ("queue_get", {"queue_name": "q"}),  # queue-level
    ("queue_delete", {"queue_name": "q"}),
    ("queue_share", {"queue_name": "q"}),
    ("queue_list", {}),
    ("health", {}),
])
def test_signed_request_may_not_leave_its_grant(keystone_api, action, params):
    call(keystone_api, "queue_create", credentials=ALICE, queue_name="q")
    headers = signed(call(keystone_api, "queue_share", credentials=ALICE, queue_name="q",
                          methods=["GET", "POST"]).body)
    with pytest.raises(Forbidden):
        call(keystone_api, action, "project-a", signature=headers, **params)
    assert keystone_api.storage.queues.exists("q", "project-a")


@pytest.mark.parametrize("header, value", [
    ("URL-Signature", "0" * 64), ("URL-Expires", "2099-01-01T00:00:00"),
    ("URL-Methods", "GET,POST,DELETE"), ("URL-Paths", "/v2/queues/other/messages"),
    ("X-Project-ID", "project-b"),
])
def test_tampered_signed_request_is_refused(keystone_api, header, value):
    document = call(keystone_api, "queue_share", credentials=ALICE, queue_name="q",
                    methods=["GET"]).body
    with pytest.raises(Forbidden):
        call(keystone_api, "message_list", "project-a", signature=signed(document, **{
            header: value}), queue_name="q")


def test_signatures_are_checked_with_authentication_off_too(open_api):
    document = call(open_api, "queue_share", "project-a", queue_name="q").body
    assert call(open_api, "message_list", "project-a", signature=signed(document),
                queue_name="q").status == 200
    with pytest.raises(Forbidden):
        call(open_api, "message_list", "project-a",
             signature=signed(document, **{"URL-Signature": "f" * 64}), queue_name="q")


def test_share_without_a_configured_key_signs_with_the_generated_one(empty, tmp_path):
    api = Api(empty, make_conf(tmp_path))
    document = call(api, "queue_share", "project-a", queue_name="q").body
    assert call(api, "message_list", "project-a", signature=signed(document),
                queue_name="q").status == 200
    # Another process of the same data_dir (a worker) verifies it too.
    other = Api(empty, make_conf(tmp_path))
    assert call(other, "message_list", "project-a", signature=signed(document),
                queue_name="q").status == 200
    # A node with another data_dir and no key does not.
    elsewhere = Api(empty, make_conf(tmp_path / "elsewhere"))
    with pytest.raises(Forbidden):
        call(elsewhere, "message_list", "project-a", signature=signed(document),
             queue_name="q")


@pytest.mark.parametrize("body", [
    {"methods": []}, {"methods": "GET"}, {"methods": ["get"]}, {"methods": ["TRACE"]},
    {"paths": ["queues"]}, {"paths": ["../messages"]}, {"paths": []},
    {"expires": 1893456000}, {"expires": "1893456000"}, {"expires": "2000-01-01T00:00:00"},
    {"expires": "soon"}, {"unknown": 1},
])
def test_share_refuses_bad_documents(open_api, body):
    with pytest.raises(BadRequest):
        call(open_api, "queue_share", "project-a", queue_name="q", **body)


# -- websocket authenticate --------------------------------------------------------------

class StubValidator:
    def __init__(self, outcome: Credentials | Exception) -> None:
        self.outcome = outcome
        self.tokens: list[str] = []

    def validate(self, token: str) -> Credentials:
        self.tokens.append(token)
        if isinstance(self.outcome, Exception):
            raise self.outcome
        return self.outcome


def with_validator(api: Api, outcome: Credentials | Exception) -> StubValidator:
    stub = StubValidator(outcome)
    api.access._tokens = stub  # type: ignore[assignment]
    return stub


def test_authenticate_returns_the_token_identity(keystone_api):
    with_validator(keystone_api, ALICE)
    assert keystone_api.access.authenticate("token", None) == ALICE
    assert keystone_api.access.authenticate("token", "project-a") == ALICE


def test_authenticate_for_another_project_is_forbidden(keystone_api):
    with_validator(keystone_api, ALICE)
    with pytest.raises(Forbidden):
        keystone_api.access.authenticate("token", "project-b")


@pytest.mark.parametrize("outcome, error", [
    (AuthenticationFailed("no"), Unauthorized),
    (IdentityServiceUnavailable("down"), ServiceUnavailable),
    (UNSCOPED, Forbidden),
])
def test_authenticate_failures(keystone_api, outcome, error):
    with_validator(keystone_api, outcome)
    with pytest.raises(error):
        keystone_api.access.authenticate("token", None)


@pytest.mark.parametrize("token", [None, "", "x" * 8193, "tok\u00e9n", "tok\nX-Roles: admin"])
def test_malformed_tokens_are_refused_unasked(keystone_api, token):
    stub = with_validator(keystone_api, ALICE)
    with pytest.raises(Unauthorized):
        keystone_api.access.authenticate(token, None)
    assert stub.tokens == []


def test_authenticate_is_a_no_op_without_keystone(open_api):
    assert open_api.access.authenticate(None, None) is None


def test_a_topic_notices_signature_confirms_that_subscription_and_nothing_else(empty,
                                                                               tmp_path):
    api = Api(empty, make_conf(tmp_path, DEFAULT={"auth_strategy": "keystone"},
                               signed_url={"secret_key": KEY},
                               notification={"require_confirmation": True}))
    created = [call(api, "topic_subscription_create", credentials=ALICE, topic_name="t",
                    subscriber=f"http://127.0.0.1/{n}").body["subscription_id"]
               for n in range(2)]
    stored = api.storage.subscriptions.get("t", topic_project("project-a"), created[0])
    notice = notification.notice(stored, "confirm", KEY)
    headers = signed({"signature": notice["URL-Signature"], "expires": notice["URL-Expires"],
                      "methods": [notice["URL-Methods"]], "paths": [notice["URL-Paths"]],
                      "project": notice["X-Project-ID"]})
    for action, params in [
            ("topic_subscription_confirm", {"topic_name": "t", "subscription_id": created[1]}),
            ("topic_subscription_get", {"topic_name": "t", "subscription_id": created[0]}),
            ("subscription_confirm", {"queue_name": "t", "subscription_id": created[0]})]:
        with pytest.raises(Forbidden):
            call(api, action, signature=headers, confirmed=True, **params)
    assert call(api, "topic_subscription_confirm", signature=headers, topic_name="t",
                subscription_id=created[0], confirmed=True).status == 204
    confirmed = [api.storage.subscriptions.get("t", topic_project("project-a"), i).confirmed
                 for i in created]
    assert confirmed == [True, False]
