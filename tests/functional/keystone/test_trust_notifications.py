"""trust+ subscribers against the real Keystone: the webhook carries a token of the
subscription's trust, which acts as the subscribing user in their project."""
import uuid
from collections.abc import Iterator

import pytest
import requests

from tests.functional.conftest import ServerProcess, running_server
from tests.functional.keystone.conftest import (
    SERVICE_PASSWORD,
    Accounts,
    Client,
    keystone_config,
)
from tests.functional.keystone.keystone_server import KeystoneServer
from tests.functional.receivers import wait_until, webhook_receiver


@pytest.fixture(scope="module")
def trusting_zaqar(keystone: KeystoneServer, accounts: Accounts,
                   tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """zaqar-server behind Keystone, whose trustee is its service user, delivering to
    loopback addresses only."""
    config = keystone_config(keystone) + (
        "\n[trustee]\nauth_type = password\n"
        f"auth_url = {keystone.url}\nusername = zaqar\npassword = {SERVICE_PASSWORD}\n"
        "user_domain_name = Default\n"
        "\n[notification]\nallowed_destinations = 127.0.0.0/8\npoll_interval = 0.2\n")
    with running_server(tmp_path_factory.mktemp("zaqar-trust"), config) as server:
        yield server


def token_document(keystone: KeystoneServer, accounts: Accounts, token: str) -> dict:
    """What Keystone says of ``token`` (validated with the admin's)."""
    response = accounts.identity.session.get(f"{keystone.url}/auth/tokens",
                                             headers={"X-Subject-Token": token}, timeout=30)
    response.raise_for_status()
    return response.json()["token"]


def trust_to_zaqar(keystone: KeystoneServer, accounts: Accounts, token: str) -> str:
    """A trust from the token's user, in its project, to zaqar's service user."""
    trustor = token_document(keystone, accounts, token)
    [trustee] = accounts.identity._get("/users?name=zaqar")["users"]
    response = requests.post(f"{keystone.url}/OS-TRUST/trusts", timeout=30,
                             headers={"X-Auth-Token": token}, json={"trust": {
                                 "trustor_user_id": trustor["user"]["id"],
                                 "trustee_user_id": trustee["id"],
                                 "project_id": trustor["project"]["id"],
                                 "impersonation": True, "roles": [{"name": "member"}]}})
    response.raise_for_status()
    return response.json()["trust"]["id"]


def test_webhook_carries_a_token_of_the_subscribers_trust(trusting_zaqar, keystone,
                                                          accounts):
    alice = Client(trusting_zaqar.url, accounts.alice)
    trust_id = trust_to_zaqar(keystone, accounts, accounts.alice)
    queue = f"q-{uuid.uuid4().hex[:12]}"
    with webhook_receiver() as hook:
        created = alice.post(f"/v2/queues/{queue}/subscriptions", json={
            "subscriber": f"trust+{hook.url}", "ttl": 3600,
            "options": {"trust_id": trust_id}})
        assert created.status_code == 201, created.text
        assert alice.post(f"/v2/queues/{queue}/messages", json={
            "messages": [{"body": {"deploy": 1}, "ttl": 300}]}).status_code == 201
        [arrived] = hook.wait_for(1, timeout=30)
    assert arrived.body == {"ttl": 300, "body": {"deploy": 1},
                            "Message_Type": "Notification", "queue_name": queue}
    token = token_document(keystone, accounts, arrived.headers["X-Auth-Token"])
    alices = token_document(keystone, accounts, accounts.alice)
    assert token["user"]["id"] == alices["user"]["id"]  # impersonation: acts as alice
    assert token["project"]["id"] == accounts.project_a
    assert token["OS-TRUST:trust"]["id"] == trust_id


def test_trust_keystone_refuses_gives_the_message_up(trusting_zaqar, accounts):
    alice = Client(trusting_zaqar.url, accounts.alice)
    queue = f"q-{uuid.uuid4().hex[:12]}"
    with webhook_receiver() as hook:
        created = alice.post(f"/v2/queues/{queue}/subscriptions", json={
            "subscriber": f"trust+{hook.url}", "options": {"trust_id": uuid.uuid4().hex}})
        assert created.status_code == 201, created.text
        subscription = f"/v2/queues/{queue}/subscriptions/{created.json()['subscription_id']}"
        alice.post(f"/v2/queues/{queue}/messages", json={"messages": [{"body": 1}]})
        record = wait_until(
            lambda: alice.get(subscription).json()["delivery"].get("given_up") == 1, 30,
            lambda: f"no give-up: {alice.get(subscription).json()}",
            lambda: alice.get(subscription).json()["delivery"])
        assert hook.received == []
    assert record["last_error"].startswith("No token from trust")


def test_trust_subscriber_without_a_trust_id_is_refused(trusting_zaqar, accounts):
    alice = Client(trusting_zaqar.url, accounts.alice)
    response = alice.post("/v2/queues/untrusted/subscriptions",
                          json={"subscriber": "trust+http://127.0.0.1:9/hook"})
    assert response.status_code == 400
    assert "options.trust_id" in response.json()["description"]
