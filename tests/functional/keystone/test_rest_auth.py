"""REST behind a real Keystone: tokens decide who gets in and which project they see."""
import time

import pytest
import requests

from tests.functional.keystone.conftest import (
    ALLOWED_ORIGIN,
    SECRET_KEY,
    SERVICE_PASSWORD,
    TOKEN_CACHE_TIME,
    Client,
)
from tests.functional.keystone.keystone_server import SHORT_TOKEN_LIFETIME


def post_message(client: Client, queue: str, body: object = "hello") -> requests.Response:
    return client.post(f"/v2/queues/{queue}/messages", json={"messages": [{"body": body}]})


def bodies(client: Client, queue: str) -> list:
    listed = client.get(f"/v2/queues/{queue}/messages", params={"echo": "true"})
    assert listed.status_code == 200, listed.text
    return [message["body"] for message in listed.json()["messages"]]


def test_valid_token_works_in_its_own_project_without_x_project_id(alice, queue_name):
    assert alice.put(f"/v2/queues/{queue_name}").status_code == 201
    assert post_message(alice, queue_name).status_code == 201
    assert bodies(alice, queue_name) == ["hello"]
    names = [queue["name"] for queue in alice.get("/v2/queues").json()["queues"]]
    assert queue_name in names


def test_x_project_id_of_the_token_project_is_accepted(zaqar, accounts, queue_name):
    client = Client(zaqar.url, accounts.alice, project=accounts.project_a)
    assert client.put(f"/v2/queues/{queue_name}").status_code == 201


@pytest.mark.parametrize("token", [None, "", "not-a-token", "gAAAAABinvalidfernet" * 5])
def test_missing_or_invalid_token_is_401(zaqar, token):
    client = Client(zaqar.url, None)
    headers = {} if token is None else {"X-Auth-Token": token}
    response = client.get("/v2/queues", headers=headers)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Keystone uri=")
    assert "Traceback" not in response.text


def test_client_supplied_identity_headers_are_ignored(zaqar, accounts):
    client = Client(zaqar.url, None, project=accounts.project_a)
    response = client.get("/v2/queues", headers={
        "X-Identity-Status": "Confirmed", "X-Roles": "admin", "X-User-Id": "admin",
        "X-Project-Id": accounts.project_a})
    assert response.status_code == 401


def test_revoked_token_is_401_once_out_of_the_token_cache(zaqar, accounts):
    token = accounts.token("alice")
    client = Client(zaqar.url, token)
    assert client.get("/v2/queues").status_code == 200
    accounts.identity.revoke(token)
    time.sleep(TOKEN_CACHE_TIME + 1)
    assert client.get("/v2/queues").status_code == 401


def test_expired_token_is_401(zaqar, accounts):
    token = accounts.token("alice", short_lived=True)
    client = Client(zaqar.url, token)
    assert client.get("/v2/queues").status_code == 200
    time.sleep(SHORT_TOKEN_LIFETIME + 1)
    assert client.get("/v2/queues").status_code == 401


def test_unscoped_token_is_refused(zaqar, accounts):
    client = Client(zaqar.url, accounts.token("dave", None))
    response = client.get("/v2/queues")
    assert response.status_code == 403
    assert response.json()["description"] == "The token is not scoped to a project."


def test_ping_needs_a_token_and_the_versions_document_does_not(zaqar, alice):
    assert Client(zaqar.url, None).get("/v2/ping").status_code == 401
    assert alice.get("/v2/ping").status_code == 204
    assert requests.get(zaqar.url + "/", timeout=10).status_code == 300


def test_health_is_for_admins_only(zaqar, accounts, alice):
    assert alice.get("/v2/health").status_code == 403
    carol = Client(zaqar.url, accounts.carol)
    response = carol.get("/v2/health")
    assert response.status_code == 200
    assert response.json()["storage_reachable"] is True


def test_cors_preflight_needs_no_token_for_an_allowed_origin(zaqar):
    headers = {"Origin": ALLOWED_ORIGIN, "Access-Control-Request-Method": "POST",
               "Access-Control-Request-Headers": "X-Auth-Token, Client-ID"}
    response = requests.options(zaqar.url + "/v2/queues/q/messages", headers=headers,
                                timeout=10)
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == ALLOWED_ORIGIN
    allowed = response.headers["Access-Control-Allow-Headers"].lower()
    assert "x-auth-token" in allowed and "client-id" in allowed


def test_cors_refuses_other_origins(zaqar, alice):
    response = alice.get("/v2/queues", headers={"Origin": "http://evil.test"})
    assert response.status_code == 200
    assert "Access-Control-Allow-Origin" not in response.headers
    response = alice.get("/v2/queues", headers={"Origin": ALLOWED_ORIGIN})
    assert response.headers["Access-Control-Allow-Origin"] == ALLOWED_ORIGIN


def test_secrets_and_tokens_never_reach_the_log(zaqar, accounts, alice, queue_name):
    token = accounts.token("alice")
    Client(zaqar.url, token).put(f"/v2/queues/{queue_name}")
    Client(zaqar.url, token + "tampered").get("/v2/queues")
    alice.post(f"/v2/queues/{queue_name}/share", json={})
    log = zaqar.output()
    for secret in (SERVICE_PASSWORD, SECRET_KEY, token):
        assert secret not in log
