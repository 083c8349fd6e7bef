"""``GET /metrics``: Prometheus text that prometheus_client's parser reads, moving with
the traffic of every process of a real zaqar-server (REST workers, websocket processes,
the notifier), telling nothing of projects, and served only where allowed."""
import json
import time
import uuid
from collections.abc import Iterator

import pytest
import requests
import websocket
from prometheus_client.parser import text_string_to_metric_families

from tests.functional.conftest import Rest, ServerProcess, running_server
from tests.functional.receivers import wait_until, webhook_receiver

CONFIG = """
[notification]
allowed_destinations = 127.0.0.0/8, ::1
poll_interval = 0.2
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    with running_server(tmp_path_factory.mktemp("metrics"), CONFIG,
                        websocket_ready=True) as running:
        yield running


@pytest.fixture
def rest(server: ServerProcess) -> Iterator[Rest]:
    client = Rest(server.url, project=f"tenant-{uuid.uuid4().hex}")
    yield client
    client.close()


def scrape(url: str) -> tuple[dict[tuple[str, tuple[tuple[str, str], ...]], float], str]:
    """Every sample of /metrics by (name, sorted labels), and the raw text."""
    response = requests.get(url + "/metrics", timeout=10)
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"].startswith("text/plain")
    samples = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples, response.text


def value(samples: dict, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_metrics_move_with_rest_traffic_and_name_no_project(server: ServerProcess,
                                                            rest: Rest) -> None:
    before, _ = scrape(server.url)
    posted = rest.post("/v2/queues/metered/messages",
                       json={"messages": [{"body": n} for n in range(3)]})
    assert posted.status_code == 201, posted.text
    claim = rest.post("/v2/queues/metered/claims?limit=2", json={"ttl": 60, "grace": 60})
    assert claim.status_code == 201, claim.text
    claim_id = claim.json()["claim_id"]
    for message in claim.json()["messages"]:
        deleted = rest.delete(f"/v2/queues/metered/messages/{message['id']}"
                              f"?claim_id={claim_id}")
        assert deleted.status_code == 204, deleted.text
    assert rest.get("/v2/queues/metered/claims/nonesuch").status_code == 404
    after, text = scrape(server.url)

    def moved(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert moved("zaqar_messages_posted_total") == 3
    assert moved("zaqar_messages_claimed_total") == 2
    assert moved("zaqar_messages_deleted_total") == 2
    assert moved("zaqar_requests_total", transport="rest", action="message_post",
                 status="201") == 1
    assert moved("zaqar_requests_total", transport="rest", action="claim_get",
                 status="404") == 1
    assert moved("zaqar_request_duration_seconds_count", transport="rest",
                 action="message_delete") == 2
    assert moved("zaqar_http_responses_total", method="DELETE", status="204") == 2
    assert rest.project not in text and rest.client_id not in text
    assert "metered" not in text


def test_websocket_connections_and_actions_are_counted(server: ServerProcess) -> None:
    connection = websocket.create_connection(server.ws_url, timeout=10)
    try:
        connection.send(json.dumps({"action": "queue_list", "headers": {
            "Client-ID": str(uuid.uuid4()), "X-Project-ID": "metrics-ws"}, "body": {}}))
        assert json.loads(connection.recv())["headers"]["status"] == 200
        # The gauge is sampled once a second in each websocket process.
        wait_until(lambda: value(scrape(server.url)[0], "zaqar_websocket_connections") >= 1,
                   5, lambda: "zaqar_websocket_connections stayed 0")
        samples, _ = scrape(server.url)
        assert value(samples, "zaqar_requests_total", transport="websocket",
                     action="queue_list", status="200") >= 1
    finally:
        connection.close()
    wait_until(lambda: value(scrape(server.url)[0], "zaqar_websocket_connections") == 0,
               5, lambda: "zaqar_websocket_connections did not come back to 0")


def test_notification_deliveries_are_counted(server: ServerProcess, rest: Rest) -> None:
    before, _ = scrape(server.url)
    with webhook_receiver() as hook:
        subscribed = rest.post("/v2/queues/hooked/subscriptions",
                               json={"subscriber": hook.url, "ttl": 3600})
        assert subscribed.status_code == 201, subscribed.text
        time.sleep(0.5)  # the notifier learns of the subscription before the post
        assert rest.post("/v2/queues/hooked/messages",
                         json={"messages": [{"body": "ping"}]}).status_code == 201
        hook.wait_for(1)
    wait_until(lambda: value(scrape(server.url)[0], "zaqar_notification_deliveries_total",
                             scheme="http", outcome="delivered")
               > value(before, "zaqar_notification_deliveries_total", scheme="http",
                       outcome="delivered"),
               5, lambda: "the delivery was not counted")


def test_metrics_are_refused_outside_the_allowed_networks(tmp_path) -> None:
    override = "[drivers:transport:wsgi]\nmetrics_allowed_networks = 192.0.2.0/24\n"
    with running_server(tmp_path, override) as server:
        response = requests.get(server.url + "/metrics", timeout=10)
        assert response.status_code == 403
        assert set(response.json()) == {"title", "description"}


def test_metrics_can_be_turned_off(tmp_path) -> None:
    with running_server(tmp_path, "[drivers:transport:wsgi]\nmetrics_allowed_networks =\n"
                        ) as server:
        assert requests.get(server.url + "/metrics", timeout=10).status_code == 404


def test_a_long_poll_is_one_response_however_often_it_runs(server: ServerProcess,
                                                           rest: Rest) -> None:
    before, _ = scrape(server.url)
    waited = rest.post(f"/v2/queues/empty-{uuid.uuid4().hex[:8]}/claims?wait=2",
                       json={"ttl": 60})
    assert waited.status_code == 204
    after, _ = scrape(server.url)
    for status, count in (("204", 1), ("200", 0)):
        assert (value(after, "zaqar_http_responses_total", method="POST", status=status)
                - value(before, "zaqar_http_responses_total", method="POST",
                        status=status)) == count
    assert value(after, "zaqar_long_polls_waiting") == 0
