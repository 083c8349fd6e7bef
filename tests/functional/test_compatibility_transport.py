"""Rows of docs/compatibility.md "Transport and action registry": the service documents,
media types and upstream's websocket action names, each as upstream Zaqar 23 answers."""
import json
from pathlib import Path

import pytest

from tests.functional.conftest import Rest, running_server
from tests.functional.test_zaqarclient import make_client
from tests.functional.websocket_client import connections

UPSTREAM_HOME = json.loads(
    (Path(__file__).parents[1] / "unit" / "api" / "upstream_home.json").read_text())


def assert_error(resp, status: int) -> None:
    assert resp.status_code == status, resp.text
    assert set(resp.json()) >= {"title", "description"}


def test_home_document_is_upstreams_with_its_media_type_and_cache_lifetime(rest):
    resp = rest.get("/v2/")
    assert resp.status_code == 200
    assert resp.headers["Content-Type"] == "application/json-home"
    assert resp.headers["Cache-Control"] == "max-age=86400"
    assert resp.json() == UPSTREAM_HOME


def test_v2_without_its_slash_is_not_found(rest):
    assert_error(rest.get("/v2"), 404)


def test_versions_document_is_upstreams(rest):
    resp = rest.get("/", headers={"Client-ID": None, "X-Project-ID": None})
    assert resp.status_code == 300
    assert resp.json()["versions"][0]["updated"] == "2014-9-24T04:06:47Z"


@pytest.mark.parametrize("path", ["/v2/", "/v2/ping"])
def test_service_endpoints_need_a_project_as_upstream(rest, path):
    resp = rest.get(path, headers={"X-Project-ID": None})
    assert_error(resp, 400)
    assert resp.json()["title"] == "Project-Id Missing"


@pytest.mark.parametrize("accept", ["text/plain", "text/html", "application/json-home"])
def test_an_accept_that_excludes_json_is_406_before_anything_else(rest, accept):
    # No Client-ID either: upstream checks Accept first.
    assert_error(rest.get("/v2/queues", headers={"Accept": accept, "Client-ID": None}), 406)


@pytest.mark.parametrize("accept", ["*/*", "application/*", "application/json",
                                    "text/html, application/json;q=0.1"])
def test_an_accept_that_admits_json_is_served(rest, accept):
    assert rest.get("/v2/queues", headers={"Accept": accept}).status_code == 200


def test_a_form_encoded_body_is_400_and_nothing_is_stored(rest):
    # What `curl -d` sends unless told otherwise.
    resp = rest.post("/v2/queues/formq/messages", data='{"messages": [{"body": 1}]}',
                     headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert_error(resp, 400)
    assert resp.json()["title"] == "Invalid Content-Type"
    assert rest.get("/v2/queues/formq/stats").json()["messages"]["total"] == 0


def test_a_body_without_content_type_is_read_as_json(rest):
    resp = rest.post("/v2/queues/plainq/messages", data=b'{"messages": [{"body": 1}]}',
                     headers={"Content-Type": None})
    assert resp.status_code == 201, resp.text


# -- websocket names of upstream -----------------------------------------------------------

def test_websocket_get_home_doc_answers_the_home_document(websocket_url):
    with connections(websocket_url) as open_client:
        reply = open_client().request("get_home_doc")
    assert reply.status == 200
    assert reply.body == UPSTREAM_HOME


def test_websocket_ping_node(websocket_url):
    with connections(websocket_url) as open_client:
        assert open_client().request("ping_node").status == 204


def test_websocket_unknown_action_is_400_and_the_connection_stays(websocket_url):
    with connections(websocket_url) as open_client:
        client = open_client()
        assert client.request("no_such_action").status == 400
        assert client.request("ping_node").status == 204


# -- admin mode: upstream's private endpoints ----------------------------------------------

@pytest.fixture(scope="module")
def admin_server(tmp_path_factory):
    with running_server(tmp_path_factory.mktemp("admin"), "[DEFAULT]\nadmin_mode = true\n",
                        websocket_ready=True) as server:
        yield server


def test_health_is_404_without_admin_mode_as_upstream(rest, websocket_url):
    assert_error(rest.get("/v2/health"), 404)
    with connections(websocket_url) as open_client:
        client = open_client()
        assert client.request("check_node_health").status == 400
        assert client.request("health").status == 400


def test_admin_mode_serves_health_on_both_transports(admin_server):
    rest = Rest(admin_server.url)
    resp = rest.get("/v2/health")
    assert resp.status_code == 200
    assert resp.json()["storage_reachable"] is True
    assert rest.head("/v2/health").status_code == 200
    assert_error(rest.get("/v2/health", headers={"X-Project-ID": None}), 400)
    with connections(admin_server.ws_url) as open_client:
        client = open_client()
        assert client.request("check_node_health").body["storage_reachable"] is True
        assert client.request("health").status == 200


def test_zaqarclient_reads_health_in_admin_mode(admin_server):
    producer = make_client(admin_server.url, "admin-project")
    assert producer.health()["storage_reachable"] is True
