"""trust+ subscribers against the real Keystone: the webhook carries a token of the
subscription's trust, which acts as the subscribing user in their project. Without
options.trust_id, subscribing (REST or websocket) creates the trust from the caller."""
import time
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
from tests.functional.websocket_client import connections


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
    with running_server(tmp_path_factory.mktemp("zaqar-trust"), config,
                        websocket_ready=True) as server:
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


def test_a_trust_deleted_in_keystone_gives_the_message_up(trusting_zaqar, keystone,
                                                        accounts):
    alice = Client(trusting_zaqar.url, accounts.alice)
    trust_id = trust_to_zaqar(keystone, accounts, accounts.alice)
    queue = f"q-{uuid.uuid4().hex[:12]}"
    with webhook_receiver() as hook:
        created = alice.post(f"/v2/queues/{queue}/subscriptions", json={
            "subscriber": f"trust+{hook.url}", "options": {"trust_id": trust_id}})
        assert created.status_code == 201, created.text
        deleted = accounts.identity.session.delete(
            f"{keystone.url}/OS-TRUST/trusts/{trust_id}", timeout=30)
        assert deleted.status_code == 204, deleted.text
        subscription = f"/v2/queues/{queue}/subscriptions/{created.json()['subscription_id']}"
        alice.post(f"/v2/queues/{queue}/messages", json={"messages": [{"body": 1}]})
        record = wait_until(
            lambda: alice.get(subscription).json()["delivery"].get("given_up") == 1, 30,
            lambda: f"no give-up: {alice.get(subscription).json()}",
            lambda: alice.get(subscription).json()["delivery"])
        assert hook.received == []
    assert record["last_error"].startswith("No token from trust")


@pytest.mark.parametrize("who", ["bob", "carol"])  # another project's member; an admin
def test_naming_another_users_trust_is_403(trusting_zaqar, keystone, accounts, who):
    """A trust_id read in a subscription document may not be reused by someone else:
    the webhook would act as its trustor."""
    trust_id = trust_to_zaqar(keystone, accounts, accounts.alice)
    other = Client(trusting_zaqar.url, getattr(accounts, who))
    queue = f"q-{uuid.uuid4().hex[:12]}"
    response = other.post(f"/v2/queues/{queue}/subscriptions", json={
        "subscriber": "trust+http://127.0.0.1:9/hook", "options": {"trust_id": trust_id}})
    assert response.status_code == 403, response.text
    assert response.json()["title"] == "Trust not usable"
    assert other.get(f"/v2/queues/{queue}/subscriptions").json()["subscriptions"] == []


def test_naming_a_trust_keystone_does_not_know_is_403(trusting_zaqar, accounts):
    alice = Client(trusting_zaqar.url, accounts.alice)
    response = alice.post("/v2/queues/unknown-trust/subscriptions", json={
        "subscriber": "trust+http://127.0.0.1:9/hook",
        "options": {"trust_id": uuid.uuid4().hex}})
    assert response.status_code == 403, response.text
    assert "Keystone refused the subscriber's trust" in response.json()["description"]


def test_another_user_may_not_point_a_trust_subscription_elsewhere(trusting_zaqar,
                                                                   accounts):
    """Alice, of carol's project, sees carol's subscription and its trust (carol is an
    admin): sending its tokens to another URL, or naming the trust again, is 403;
    options without the trust make one of alice's own."""
    alice = Client(trusting_zaqar.url, accounts.alice)
    carol = Client(trusting_zaqar.url, accounts.carol)
    queue = f"q-{uuid.uuid4().hex[:12]}"
    created = carol.post(f"/v2/queues/{queue}/subscriptions", json={
        "subscriber": "trust+http://127.0.0.1:9/hook", "ttl": 600})
    path = f"/v2/queues/{queue}/subscriptions/{created.json()['subscription_id']}"
    carols = carol.get(path).json()["options"]["trust_id"]
    assert alice.patch(path, json={
        "subscriber": "trust+http://127.0.0.1:10/mine"}).status_code == 403
    assert alice.patch(path, json={"options": {"trust_id": carols}}).status_code == 403
    assert carol.get(path).json()["subscriber"] == "trust+http://127.0.0.1:9/hook"
    assert carol.patch(path, json={
        "subscriber": "trust+http://127.0.0.1:10/hook"}).status_code == 204
    assert alice.patch(path, json={"options": {"format": "json"}}).status_code == 204
    assert alice.get(path).json()["options"]["trust_id"] != carols


def user_id(keystone: KeystoneServer, accounts: Accounts, token: str) -> str:
    return token_document(keystone, accounts, token)["user"]["id"]


def keystone_trust(accounts: Accounts, trust_id: str) -> dict:
    """The trust as Keystone's admin sees it."""
    return accounts.identity._get(f"/OS-TRUST/trusts/{trust_id}")["trust"]


def assert_carries_the_trust(keystone: KeystoneServer, accounts: Accounts, arrived,
                             trust_id: str) -> None:
    """The delivery's X-Auth-Token is a token of ``trust_id`` acting as alice."""
    token = token_document(keystone, accounts, arrived.headers["X-Auth-Token"])
    assert token["user"]["id"] == user_id(keystone, accounts, accounts.alice)
    assert token["project"]["id"] == accounts.project_a
    assert token["OS-TRUST:trust"]["id"] == trust_id


def assert_trust_from_alice_to_zaqar(keystone, accounts, trust_id: str,
                                     ttl: int) -> None:
    trust = keystone_trust(accounts, trust_id)
    [trustee] = accounts.identity._get("/users?name=zaqar")["users"]
    assert trust["trustor_user_id"] == user_id(keystone, accounts, accounts.alice)
    assert trust["trustee_user_id"] == trustee["id"]
    assert trust["project_id"] == accounts.project_a
    assert trust["impersonation"] is True
    # The roles of alice's token: member and the reader it implies.
    alices = token_document(keystone, accounts, accounts.alice)["roles"]
    assert sorted(role["name"] for role in trust["roles"]) == sorted(
        role["name"] for role in alices)
    expires = time.mktime(time.strptime(trust["expires_at"][:19], "%Y-%m-%dT%H:%M:%S"))
    expires -= time.timezone  # expires_at is UTC
    assert time.time() + ttl - 120 < expires <= time.time() + ttl + 1


def test_subscribing_without_a_trust_id_creates_the_trust_over_rest(trusting_zaqar,
                                                                    keystone, accounts):
    alice = Client(trusting_zaqar.url, accounts.alice)
    queue = f"q-{uuid.uuid4().hex[:12]}"
    with webhook_receiver() as hook:
        created = alice.post(f"/v2/queues/{queue}/subscriptions", json={
            "subscriber": f"trust+{hook.url}", "ttl": 3600, "options": {"format": "json"}})
        assert created.status_code == 201, created.text
        subscription = alice.get(f"/v2/queues/{queue}/subscriptions/"
                                 f"{created.json()['subscription_id']}").json()
        trust_id = subscription["options"]["trust_id"]
        assert subscription["options"] == {"format": "json", "trust_id": trust_id}
        assert_trust_from_alice_to_zaqar(keystone, accounts, trust_id, 3600)
        assert alice.post(f"/v2/queues/{queue}/messages", json={
            "messages": [{"body": {"deploy": 2}, "ttl": 300}]}).status_code == 201
        [arrived] = hook.wait_for(1, timeout=30)
    assert arrived.body["body"] == {"deploy": 2}
    assert_carries_the_trust(keystone, accounts, arrived, trust_id)


def test_subscribing_without_a_trust_id_creates_the_trust_over_websocket(
        trusting_zaqar, keystone, accounts):
    queue = f"q-{uuid.uuid4().hex[:12]}"
    with webhook_receiver() as hook, connections(trusting_zaqar.ws_url) as connect:
        client = connect(project=accounts.project_a)
        authenticated = client.request("authenticate", headers={
            **client.headers, "X-Auth-Token": accounts.alice})
        assert authenticated.status == 200, authenticated.document
        reply = client.request("subscription_create", {
            "queue_name": queue, "subscriber": f"trust+{hook.url}", "ttl": 600})
        assert reply.status == 201, reply.document
        found = client.request("subscription_get", {
            "queue_name": queue, "subscription_id": reply.body["subscription_id"]})
        trust_id = found.body["options"]["trust_id"]
        assert_trust_from_alice_to_zaqar(keystone, accounts, trust_id, 600)
        posted = client.request("message_post", {"queue_name": queue,
                                                 "messages": [{"body": "over ws"}]})
        assert posted.status == 201, posted.document
        [arrived] = hook.wait_for(1, timeout=30)
    assert arrived.body["body"] == "over ws"
    assert_carries_the_trust(keystone, accounts, arrived, trust_id)


def test_update_to_a_trust_subscriber_creates_its_trust(trusting_zaqar, keystone,
                                                        accounts):
    alice = Client(trusting_zaqar.url, accounts.alice)
    queue = f"q-{uuid.uuid4().hex[:12]}"
    with webhook_receiver() as hook:
        created = alice.post(f"/v2/queues/{queue}/subscriptions",
                             json={"subscriber": hook.url, "ttl": 3600})
        path = f"/v2/queues/{queue}/subscriptions/{created.json()['subscription_id']}"
        assert alice.patch(path, json={"subscriber": f"trust+{hook.url}",
                                       "ttl": 1800}).status_code == 204
        trust_id = alice.get(path).json()["options"]["trust_id"]
        assert_trust_from_alice_to_zaqar(keystone, accounts, trust_id, 1800)
        # A ttl alone keeps the trust (it is not renewed: see docs/notifications.md).
        assert alice.patch(path, json={"ttl": 900}).status_code == 204
        assert alice.get(path).json()["options"]["trust_id"] == trust_id
        alice.post(f"/v2/queues/{queue}/messages", json={"messages": [{"body": 3}]})
        [arrived] = hook.wait_for(1, timeout=30)
    assert_carries_the_trust(keystone, accounts, arrived, trust_id)


def test_keystone_refusing_the_trust_is_403_and_nothing_is_subscribed(trusting_zaqar,
                                                                       keystone, accounts):
    """A trust-scoped token (what a trust+ receiver is given) may not delegate again."""
    alice = Client(trusting_zaqar.url, accounts.alice)
    queue = f"q-{uuid.uuid4().hex[:12]}"
    with webhook_receiver() as hook:
        alice.post(f"/v2/queues/{queue}/subscriptions",
                   json={"subscriber": f"trust+{hook.url}", "ttl": 3600})
        alice.post(f"/v2/queues/{queue}/messages", json={"messages": [{"body": 4}]})
        [arrived] = hook.wait_for(1, timeout=30)
    delegated = Client(trusting_zaqar.url, arrived.headers["X-Auth-Token"])
    response = delegated.post(f"/v2/queues/{queue}-again/subscriptions",
                              json={"subscriber": "trust+http://127.0.0.1:9/hook"})
    assert response.status_code == 403, response.text
    assert response.json()["title"] == "Trust not created"
    assert "Keystone refused the subscriber's trust" in response.json()["description"]
    listed = delegated.get(f"/v2/queues/{queue}-again/subscriptions").json()
    assert listed["subscriptions"] == []


def test_deleting_the_subscription_leaves_its_trust_to_expire(trusting_zaqar, keystone,
                                                              accounts):
    alice = Client(trusting_zaqar.url, accounts.alice)
    queue = f"q-{uuid.uuid4().hex[:12]}"
    created = alice.post(f"/v2/queues/{queue}/subscriptions", json={
        "subscriber": "trust+http://127.0.0.1:9/hook", "ttl": 300})
    path = f"/v2/queues/{queue}/subscriptions/{created.json()['subscription_id']}"
    trust_id = alice.get(path).json()["options"]["trust_id"]
    assert alice.delete(path).status_code == 204
    assert_trust_from_alice_to_zaqar(keystone, accounts, trust_id, 300)
