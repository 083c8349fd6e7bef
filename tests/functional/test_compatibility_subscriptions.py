"""Subscriptions, features not delivered yet, pre-signed URL keys and start-time options,
against a real ``zaqar-server``, with upstream Zaqar 23's statuses and body keys (see
docs/compatibility.md, "Subscriptions, pre-signed URLs, options")."""
import stat
import subprocess
import uuid
from pathlib import Path

import pytest

from tests.functional.conftest import Rest, _server_command, _write_config, running_server
from tests.functional.websocket_client import WsClient, connections, subscribe_here

# Without options.trust_id the trust is created on subscribe from the caller's Keystone
# token: without Keystone authentication there is none (upstream answers 503).
TRUST_SUBSCRIBERS = ["trust+http://example.com/hook", "trust+https://example.com/hook"]
NO_KEYSTONE_CALLER = "needs a caller authenticated by Keystone"
# Upstream's GET of a queue shows these: clients send them back.
FEATURE_DEFAULTS = {"_dead_letter_queue": None, "_dead_letter_queue_messages_ttl": None,
                    "_max_claim_count": None, "_enable_encrypt_messages": False}
BAD_RETRY_POLICIES = [
    {"minimum_delay": 40},  # above the default maximum_delay, 30
    {"minimum_delay": 20, "maximum_delay": 25},  # closer than 10 seconds
    {"minimum_delay": 1.5},
    {"retry_backoff_function": "cubic"},
    {"ignore_subscription_override": "yes"},
    "not an object",
]


@pytest.fixture
def connect(websocket_url):
    with connections(websocket_url) as open_client:
        yield open_client


def assert_error(response, status: int = 400, *fragments: str) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"title", "description"}
    for fragment in fragments:
        assert fragment in body["description"]


def assert_ws_error(frame, status: int, *fragments: str) -> None:
    assert frame.status == status, frame.document
    for fragment in fragments:
        assert fragment in frame.body["description"]


# -- subscriptions: create ---------------------------------------------------------------

@pytest.mark.parametrize("subscriber", TRUST_SUBSCRIBERS)
def test_trust_subscriber_without_trust_or_keystone_is_refused_over_rest(rest, subscriber):
    response = rest.post("/v2/queues/hooked/subscriptions",
                         json={"subscriber": subscriber, "ttl": 3600, "options": {}})
    assert_error(response, 400, NO_KEYSTONE_CALLER, "options.trust_id")
    assert rest.get("/v2/queues/hooked/subscriptions").json()["subscriptions"] == []


@pytest.mark.parametrize("subscriber", TRUST_SUBSCRIBERS)
def test_trust_subscriber_without_trust_or_keystone_is_refused_over_websocket(connect,
                                                                              subscriber):
    client = connect()
    reply = client.request("subscription_create", {"queue_name": "hooked",
                                                   "subscriber": subscriber, "ttl": 3600})
    assert_ws_error(reply, 400, NO_KEYSTONE_CALLER)
    listed = client.request("subscription_list", {"queue_name": "hooked"})
    assert listed.body["subscriptions"] == []


def test_websocket_subscription_is_created(connect):
    client = connect()
    reply = client.request("subscription_create", {"queue_name": "pushed", "ttl": 3600,
                                                   "options": {"format": "json"}})
    assert reply.status == 201
    assert {"subscription_id"} <= set(reply.body)
    got = client.request("subscription_get", {"queue_name": "pushed",
                                              "subscription_id": reply.body["subscription_id"]})
    assert set(got.body) == {"id", "source", "subscriber", "ttl", "age", "options",
                             "confirmed"}
    assert (got.body["ttl"], got.body["options"]) == (3600, {"format": "json"})


def test_second_websocket_subscription_of_a_queue_is_409(connect):
    # Upstream's websocket answer; its REST answer (the unconfirmed subscription's id)
    # concerns URI subscribers, tested below.
    client = connect()
    first = subscribe_here(client, "twice")
    again = client.request("subscription_create", {"queue_name": "twice", "ttl": 3600})
    assert_ws_error(again, 409)
    listed = client.request("subscription_list", {"queue_name": "twice"})
    assert [s["id"] for s in listed.body["subscriptions"]] == [first]


@pytest.mark.parametrize(("body", "fragment"), [
    ({"ttl": 59}, "ttl"), ({"ttl": "3600"}, "ttl"), ({"ttl": 2 ** 31}, "ttl"),
    ({"options": ["a"]}, "options"), ({"options": "x"}, "options"),
    ({"options": {"_retry_policy": {"minimum_delay": 40}}}, "minimum_delay"),
])
def test_invalid_websocket_subscription_is_400(connect, body, fragment):
    client = connect()
    reply = client.request("subscription_create", {"queue_name": "bad", **body})
    assert_ws_error(reply, 400, fragment)


# -- subscriptions: update ---------------------------------------------------------------

def subscribed(client: WsClient, queue: str) -> str:
    reply = client.request("subscription_create", {"queue_name": queue, "ttl": 3600,
                                                   "options": {"format": "json"}})
    assert reply.status == 201, reply.document
    return reply.body["subscription_id"]


def test_cli_update_of_the_ttl_alone_over_rest(connect, zaqar_server):
    # `openstack subscription update --ttl 900` sends null for what it leaves alone, and
    # {} for options, which upstream stores: the options become empty.
    client = connect()
    subscription_id = subscribed(client, "updated")
    rest = Rest(zaqar_server.url, client.project)
    path = f"/v2/queues/updated/subscriptions/{subscription_id}"
    subscriber = rest.get(path).json()["subscriber"]
    response = rest.patch(path, json={"subscriber": None, "ttl": 900, "options": {}})
    assert response.status_code == 204, response.text
    assert response.headers["Location"] == path
    got = rest.get(path).json()
    assert (got["subscriber"], got["ttl"], got["options"]) == (subscriber, 900, {})


def test_update_with_null_options_keeps_them_over_websocket(connect):
    client = connect()
    subscription_id = subscribed(client, "kept")
    ids = {"queue_name": "kept", "subscription_id": subscription_id}
    reply = client.request("subscription_update", {**ids, "ttl": 900, "options": None})
    assert reply.status == 204, reply.document
    got = client.request("subscription_get", ids).body
    assert (got["ttl"], got["options"]) == (900, {"format": "json"})


@pytest.mark.parametrize("body", [{}, {"subscriber": None, "ttl": None, "options": None},
                                  {"unknown": 1}])
def test_update_with_nothing_to_change_is_400(connect, zaqar_server, body):
    client = connect()
    subscription_id = subscribed(client, "unchanged")
    rest = Rest(zaqar_server.url, client.project)
    assert_error(rest.patch(f"/v2/queues/unchanged/subscriptions/{subscription_id}",
                            json=body), 400, "at least one of subscriber, ttl, options")
    reply = client.request("subscription_update", {
        "queue_name": "unchanged", "subscription_id": subscription_id, **body})
    assert_ws_error(reply, 400, "at least one of subscriber, ttl, options")


@pytest.mark.parametrize("policy", BAD_RETRY_POLICIES)
def test_update_with_an_invalid_retry_policy_is_400(connect, zaqar_server, policy):
    client = connect()
    subscription_id = subscribed(client, "retried")
    rest = Rest(zaqar_server.url, client.project)
    path = f"/v2/queues/retried/subscriptions/{subscription_id}"
    assert_error(rest.patch(path, json={"options": {"_retry_policy": policy}}), 400,
                 "_retry_policy")
    assert rest.get(path).json()["options"] == {"format": "json"}


def test_update_to_a_trust_subscriber_without_keystone_is_refused(connect, zaqar_server):
    client = connect()
    subscription_id = subscribed(client, "moved")
    rest = Rest(zaqar_server.url, client.project)
    assert_error(rest.patch(f"/v2/queues/moved/subscriptions/{subscription_id}",
                            json={"subscriber": "trust+https://example.com/hook"}), 400,
                 NO_KEYSTONE_CALLER)


# -- subscriptions: a second one to the same URI subscriber -----------------------------

WEBHOOK = "http://example.com/hook"  # never reached: the test server allows no destination


def test_duplicate_webhook_subscription_answers_the_unconfirmed_one_then_409(rest):
    path = "/v2/queues/twice/subscriptions"
    first = rest.post(path, json={"subscriber": WEBHOOK, "ttl": 3600})
    assert first.status_code == 201
    again = rest.post(path, json={"subscriber": WEBHOOK, "ttl": 600, "options": {"a": 1}})
    assert (again.status_code, again.json(), again.headers["Location"]) == (
        201, first.json(), "/v2/queues/twice/subscriptions")
    subscription_id = first.json()["subscription_id"]
    [listed] = rest.get(path).json()["subscriptions"]
    assert (listed["id"], listed["ttl"], listed["options"]) == (subscription_id, 3600, {})
    assert rest.put(f"{path}/{subscription_id}/confirm",
                    json={"confirmed": True}).status_code == 204
    assert_error(rest.post(path, json={"subscriber": WEBHOOK, "ttl": 3600}), 409)


def test_duplicate_webhook_subscription_over_websocket_answers_as_rest(connect):
    client = connect()
    request = {"queue_name": "twice", "subscriber": WEBHOOK, "ttl": 3600}
    first = client.request("subscription_create", request)
    again = client.request("subscription_create", request)
    assert (first.status, again.status) == (201, 201)
    assert again.body["subscription_id"] == first.body["subscription_id"]


# -- queue metadata: retry policies and features not delivered yet -----------------------

def queue_names(rest: Rest) -> list[str]:
    return [queue["name"] for queue in rest.get("/v2/queues").json()["queues"]]


def test_queue_with_a_valid_retry_policy_is_created(rest):
    policy = {"retries_with_no_delay": 3, "minimum_delay": 5, "maximum_delay": 30,
              "retry_backoff_function": "linear", "ignore_subscription_override": False}
    assert rest.put("/v2/queues/policed", json={"_retry_policy": policy}).status_code == 201
    assert rest.get("/v2/queues/policed").json()["_retry_policy"] == policy


@pytest.mark.parametrize("policy", BAD_RETRY_POLICIES)
def test_queue_with_an_invalid_retry_policy_is_400(rest, policy):
    assert_error(rest.put("/v2/queues/policed", json={"_retry_policy": policy}), 400,
                 "_retry_policy")
    assert queue_names(rest) == []


def test_queue_with_the_defaults_of_features_not_delivered_is_created(rest):
    assert rest.put("/v2/queues/plain", json=FEATURE_DEFAULTS).status_code == 201
    patch = [{"op": "add", "path": f"/metadata/{key}", "value": value}
             for key, value in FEATURE_DEFAULTS.items()]
    response = rest.patch("/v2/queues/plain", json=patch, headers={
        "Content-Type": "application/openstack-messaging-v2.0-json-patch"})
    assert response.status_code == 200, response.text


# -- pre-signed URLs without a configured key --------------------------------------------

def share_and_read(server_url: str, project: str) -> tuple[dict, int]:
    rest = Rest(server_url, project)
    assert rest.put("/v2/queues/shared", json={}).status_code in (201, 204)
    share = rest.post("/v2/queues/shared/share", json={"methods": ["GET"]})
    assert share.status_code == 200, share.text
    document = share.json()
    return document, signed_get(server_url, document)


def signed_get(server_url: str, document: dict) -> int:
    headers = {"URL-Signature": document["signature"], "URL-Expires": document["expires"],
               "URL-Methods": ",".join(document["methods"]),
               "URL-Paths": ",".join(document["paths"]),
               "X-Project-ID": document["project"], "Client-ID": str(uuid.uuid4())}
    return Rest(server_url).get("/v2/queues/shared/messages", headers=headers).status_code


def test_share_made_before_a_restart_verifies_after_it(tmp_path):
    data_dir = tmp_path / "kept"
    override = f"[DEFAULT]\ndata_dir = {data_dir}\n"
    project = f"project-{uuid.uuid4().hex}"
    (tmp_path / "first").mkdir()
    with running_server(tmp_path / "first", override) as server:
        document, status = share_and_read(server.url, project)
        assert status == 200
        key_file = data_dir / "signed_url_secret_key"
        assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
        key = key_file.read_text()
        assert "must set the same [signed_url] secret_key on each" in server.output()
    (tmp_path / "second").mkdir()
    with running_server(tmp_path / "second", override) as server:
        assert signed_get(server.url, document) == 200
        assert key_file.read_text() == key
        tampered = {**document, "methods": ["GET", "POST"]}
        assert signed_get(server.url, tampered) == 403


# -- options of pools and flavors ---------------------------------------------------------

def test_server_refuses_to_start_with_a_management_store_nobody_provides(tmp_path):
    config = _write_config(tmp_path, 1, 1)  # never bound: it stops before
    override = tmp_path / "override.conf"
    override.write_text("[drivers]\nmanagement_store = redis\n")
    finished = subprocess.run(_server_command(config) + ["--config-file", str(override)],
                              capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert finished.returncode != 0
    assert "zaqar-server: Unknown [drivers] management_store 'redis'" in finished.stderr
    assert "known drivers: sqlalchemy" in finished.stderr
    assert "Traceback" not in finished.stderr


def test_server_starts_with_the_defaults_of_those_options_given(tmp_path: Path):
    override = ("[DEFAULT]\nadmin_mode = false\npooling = false\n"
                "[drivers]\nmanagement_store = sqlalchemy\n")
    with running_server(tmp_path, override) as server:
        assert Rest(server.url).get("/v2/ping").status_code == 204
