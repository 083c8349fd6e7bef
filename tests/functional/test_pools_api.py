"""The pools and flavors admin API (/v2/pools, /v2/flavors) against a real zaqar-server
with ``admin_mode`` and ``pooling``, request by request as upstream Zaqar 23.0.1 answers.

UPSTREAM is a conversation recorded from upstream (REST under gunicorn, admin_mode and
pooling on, its SQLAlchemy management store on SQLite, Redis pools; ``X-Roles: admin``,
which its policy asks for even with authentication off): each request with upstream's
status, its body where the test compares it whole, and its error title. Pool URIs are
placeholders: upstream's were Redis URIs of its own (``redis://...?dbid=13``), ours are
the test session's Redis. Where we answer otherwise on purpose, the expectation is ours
and the comment says upstream's (docs/compatibility.md, "Pools and flavors").
"""
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests import engines
from tests.functional import test_openapi as openapi_test
from tests.functional.conftest import Rest, ServerProcess, running_server
from tests.functional.websocket_client import connections

R1 = "redis://127.0.0.1:6379/15"  # the session's Redis (ZAQAR_TEST_REDIS_URI's server)
R3 = "redis://localhost:6379/15"  # the same store under another URI: another pool
UNREACHABLE = "redis://127.0.0.1:1/0"
OPTIONS = {"key_prefix": engines.SESSION}
CAPABILITIES = ["FIFO", "CLAIMS", "AOD", "HIGH_THROUGHPUT"]  # upstream's, of a Redis pool
BODY = "Invalid request body"
API = "Invalid API request"


def pool(name: str, uri: str, weight: int, flavor: str | None, **extra: Any) -> dict:
    return {"name": name, "uri": uri, "weight": weight, "flavor": flavor, **extra,
            "href": f"/v2/pools/{name}"}


# (method, path, body, upstream's status, its body (None: not compared), its error title)
UPSTREAM: list[tuple[str, str, Any, int, Any, str | None]] = [
    ("GET", "/v2/pools", None, 200, {"links": [], "pools": []}, None),
    ("GET", "/v2/flavors", None, 200, {"links": [], "flavors": []}, None),
    ("PUT", "/v2/pools/p1", {"weight": 10, "uri": R1, "options": OPTIONS}, 201, None, None),
    # A PUT of an existing pool replaces it: 201 again.
    ("PUT", "/v2/pools/p1", {"weight": 20, "uri": R1, "options": OPTIONS}, 201, None, None),
    ("PUT", "/v2/pools/p3", {"weight": 20, "uri": R3, "options": OPTIONS, "flavor": "f9"},
     201, None, None),
    ("GET", "/v2/pools/p1", None, 200, pool("p1", R1, 20, None), None),
    ("GET", "/v2/pools/p3?detailed=true", None, 200,
     pool("p3", R3, 20, "f9", options=OPTIONS), None),
    ("GET", "/v2/pools/nope", None, 404, None, "Not found"),
    ("GET", "/v2/pools", None, 200, {
        "links": [{"rel": "next", "href": "/v2/pools?marker=p3"}],
        "pools": [pool("p1", R1, 20, None), pool("p3", R3, 20, "f9")]}, None),
    ("GET", "/v2/pools?detailed=true&limit=1", None, 200, {
        "links": [{"rel": "next", "href": "/v2/pools?limit=1&detailed=true&marker=p1"}],
        "pools": [pool("p1", R1, 20, None, options=OPTIONS)]}, None),
    ("GET", "/v2/pools?marker=p1&limit=1", None, 200, {
        "links": [{"rel": "next", "href": "/v2/pools?marker=p3&limit=1"}],
        "pools": [pool("p3", R3, 20, "f9")]}, None),
    ("GET", "/v2/pools?marker=p3", None, 200, {"links": [], "pools": []}, None),
    ("GET", "/v2/pools?limit=0", None, 400, None, API),
    ("GET", "/v2/pools?limit=21", None, 400, None, API),
    ("PUT", "/v2/pools/x", {"weight": 10}, 400, None, BODY),
    ("PUT", "/v2/pools/x", {"uri": R1}, 400, None, BODY),
    ("PUT", "/v2/pools/x", {"weight": -1, "uri": R1}, 400, None, BODY),
    ("PUT", "/v2/pools/x", {"weight": 2 ** 32, "uri": R1}, 400, None, BODY),
    ("PUT", "/v2/pools/x", {"weight": "1", "uri": R1}, 400, None, BODY),
    ("PUT", "/v2/pools/x", {"weight": 1.5, "uri": R1}, 400, None, BODY),
    ("PUT", "/v2/pools/x", {"weight": True, "uri": R1}, 400, None, BODY),
    ("PUT", "/v2/pools/x", {"weight": 1, "uri": R1, "extra": 1}, 400, None, BODY),
    ("PUT", "/v2/pools/x", {"weight": 1, "uri": 5}, 400, None, BODY),
    ("PUT", "/v2/pools/x", {"weight": 1, "uri": "r" * 256}, 400, None, BODY),
    ("PUT", "/v2/pools/x", {"weight": 1, "uri": R1, "options": []}, 400, None, BODY),
    ("PUT", "/v2/pools/x", {"weight": 1, "uri": R1, "flavor": 5}, 400, None, BODY),
    ("PUT", "/v2/pools/x", {"weight": 1, "uri": UNREACHABLE}, 400,
     {"title": BODY, "description": f"cannot connect to {UNREACHABLE}"}, BODY),
    ("GET", "/v2/pools/x", None, 404, None, "Not found"),
    ("PATCH", "/v2/pools/p1", {}, 400, {
        "title": BODY,
        "description": "One of `uri`, `weight`, `flavor`, or `options` needs to be specified"},
     BODY),
    ("PATCH", "/v2/pools/p1", {"weight": -5}, 400, None, BODY),
    ("PATCH", "/v2/pools/p1", {"weight": None}, 400, None, BODY),
    ("PATCH", "/v2/pools/p1", {"uri": UNREACHABLE}, 400,
     {"title": BODY, "description": f"cannot connect to {UNREACHABLE}"}, BODY),
    ("PATCH", "/v2/pools/p1", {"weight": 7}, 200, pool("p1", R1, 7, None), None),
    ("PATCH", "/v2/pools/p1", {"flavor": "zz"}, 200, pool("p1", R1, 7, "zz"), None),
    # Upstream answers (and stores) "flavor": "" here; our pools of no flavor are null.
    ("PATCH", "/v2/pools/p1", {"flavor": ""}, 200, pool("p1", R1, 7, None), None),
    ("PATCH", "/v2/pools/nope", {"weight": 7}, 404, None, "Not found"),
    ("DELETE", "/v2/pools/nope", None, 204, None, None),
    # -- flavors ------------------------------------------------------------------------
    ("PUT", "/v2/flavors/f1", {}, 400, None, BODY),
    ("PUT", "/v2/flavors/f1", {"capabilities": {}}, 400, None, BODY),
    ("PUT", "/v2/flavors/f1", {"pool_list": "p1"}, 400, None, BODY),
    ("PUT", "/v2/flavors/f1", {"pool_list": []}, 400, None, "Unable to create"),
    ("PUT", "/v2/flavors/f1", {"pool_list": ["nope"]}, 400, None, "Unable to create"),
    ("PUT", "/v2/flavors/f1", {"pool_list": ["p1"], "extra": 1}, 400, None, BODY),
    ("PUT", "/v2/flavors/f1", {"pool_list": ["p1"], "capabilities": []}, 400, None, BODY),
    ("GET", "/v2/flavors/f1", None, 404, None, "Not found"),
    ("PUT", "/v2/flavors/f1", {"pool_list": ["p1"]}, 201, None, None),
    ("GET", "/v2/flavors/f1", None, 200, {
        "name": "f1", "capabilities": CAPABILITIES, "pool_list": ["p1"],
        "href": "/v2/flavors/f1"}, None),
    ("GET", "/v2/pools/p1", None, 200, pool("p1", R1, 7, "f1"), None),
    # A pool is of one flavor at most: f2 takes p1 from f1.
    ("PUT", "/v2/flavors/f2", {"pool_list": ["p1", "p3"]}, 201, None, None),
    ("GET", "/v2/flavors/f1", None, 200, {
        "name": "f1", "capabilities": [], "pool_list": [], "href": "/v2/flavors/f1"}, None),
    ("GET", "/v2/flavors", None, 200, {
        "links": [{"rel": "next", "href": "/v2/flavors?marker=f2"}],
        "flavors": [{"name": "f1", "href": "/v2/flavors/f1"},
                    {"name": "f2", "href": "/v2/flavors/f2", "pool_list": ["p1", "p3"]}]},
     None),
    ("GET", "/v2/flavors?detailed=true", None, 200, {
        "links": [{"rel": "next", "href": "/v2/flavors?marker=f2&detailed=true"}],
        "flavors": [{"name": "f1", "href": "/v2/flavors/f1", "capabilities": []},
                    {"name": "f2", "href": "/v2/flavors/f2", "pool_list": ["p1", "p3"],
                     "capabilities": CAPABILITIES}]}, None),
    ("GET", "/v2/flavors?limit=1", None, 200, {
        "links": [{"rel": "next", "href": "/v2/flavors?limit=1&marker=f1"}],
        "flavors": [{"name": "f1", "href": "/v2/flavors/f1"}]}, None),
    ("GET", "/v2/flavors?detailed=false&limit=1&marker=f1", None, 200, {
        "links": [{"rel": "next", "href": "/v2/flavors?marker=f2&limit=1&detailed=false"}],
        "flavors": [{"name": "f2", "href": "/v2/flavors/f2", "pool_list": ["p1", "p3"]}]},
     None),
    ("GET", "/v2/flavors?marker=f2", None, 200, {"links": [], "flavors": []}, None),
    ("GET", "/v2/flavors?limit=50", None, 400, None, API),
    ("PATCH", "/v2/flavors/f2", {}, 400, {
        "title": BODY, "description": "`pool_list` needs to be specified"}, BODY),
    ("PATCH", "/v2/flavors/f2", {"capabilities": {}}, 400, None, BODY),
    ("PATCH", "/v2/flavors/f2", {"pool_list": "x"}, 400, None, BODY),
    # Upstream's titles here are "Unable to create" and "updatefail".
    ("PATCH", "/v2/flavors/f2", {"pool_list": []}, 400, None, "Unable to update"),
    ("PATCH", "/v2/flavors/f2", {"pool_list": ["nope"]}, 400, None, "Unable to update"),
    ("PATCH", "/v2/flavors/nope", {"pool_list": ["p1"]}, 404, None, "Not found"),
    ("PATCH", "/v2/flavors/f2", {"pool_list": ["p3"]}, 200, {
        "name": "f2", "capabilities": CAPABILITIES, "pool_list": ["p3"],
        "href": "/v2/flavors/f2"}, None),
    ("GET", "/v2/pools", None, 200, {
        "links": [{"rel": "next", "href": "/v2/pools?marker=p3"}],
        "pools": [pool("p1", R1, 7, None), pool("p3", R3, 20, "f2")]}, None),
    ("DELETE", "/v2/flavors/nope", None, 204, None, None),
    ("DELETE", "/v2/flavors/f2", None, 204, None, None),
    # Upstream: "flavor": "" once its flavor is deleted.
    ("GET", "/v2/pools/p3", None, 200, pool("p3", R3, 20, None), None),
    ("DELETE", "/v2/pools/p3", None, 204, None, None),
    ("DELETE", "/v2/flavors/f1", None, 204, None, None),
    ("DELETE", "/v2/pools/p1", None, 204, None, None),
    ("GET", "/v2/pools", None, 200, {"links": [], "pools": []}, None),
]

ADMIN_POOLING = "[DEFAULT]\nadmin_mode = true\npooling = true\n"
# Ten operations: half the time the whole API's fuzzing run may take.
ADMIN_FUZZ_SECONDS = max(1, openapi_test.RUN_SECONDS // 2)


@pytest.fixture(scope="module")
def pooled_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """admin_mode and pooling, its management store on SQLite; pools on the session's
    Redis (skipped without it, failed under CI)."""
    engines.by_name("redis").check_reachable()
    with running_server(tmp_path_factory.mktemp("pooled"), ADMIN_POOLING,
                        websocket_ready=True) as server:
        yield server


@pytest.fixture
def admin(pooled_server: ServerProcess) -> Iterator[Rest]:
    client = Rest(pooled_server.url)
    yield client
    client.close()


def test_the_admin_api_answers_as_upstream_request_by_request(admin: Rest):
    for method, path, body, status, expected, title in UPSTREAM:
        resp = admin.request(method, path, json=body)
        where = f"{method} {path} {body}"
        assert resp.status_code == status, f"{where}: {resp.status_code} {resp.text}"
        if status == 201:
            assert resp.headers["Location"] == path, where
        if title is not None:
            assert resp.json()["title"] == title, f"{where}: {resp.text}"
        if expected is not None:
            assert resp.json() == expected, where


def test_flavors_belong_to_their_project(admin: Rest):
    admin.put("/v2/pools/own", json={"weight": 1, "uri": R1, "options": OPTIONS})
    try:
        assert admin.put("/v2/flavors/gold", json={"pool_list": ["own"]}).status_code == 201
        other = Rest(admin.url)
        assert other.get("/v2/flavors/gold").status_code == 404
        assert other.get("/v2/flavors").json() == {"links": [], "flavors": []}
        assert admin.delete("/v2/flavors/gold").status_code == 204
    finally:
        admin.delete("/v2/pools/own")


def test_a_second_pool_of_one_uri_is_409(admin: Rest):
    admin.put("/v2/pools/first", json={"weight": 1, "uri": R1, "options": OPTIONS})
    try:
        resp = admin.put("/v2/pools/second", json={"weight": 1, "uri": R1})
        assert resp.status_code == 409
        assert resp.json()["title"] == "Resource conflict"
        assert admin.get("/v2/pools/second").status_code == 404
    finally:
        admin.delete("/v2/pools/first")


def test_the_websocket_serves_pools_and_flavors_with_upstreams_names(pooled_server):
    with connections(pooled_server.ws_url) as open_client:
        client = open_client()
        created = client.request("pool_create", {"pool_name": "ws", "weight": 5,
                                                 "uri": R1, "options": OPTIONS})
        assert created.status == 201
        try:
            got = client.request("pool_get", {"pool_name": "ws"})
            assert (got.status, got.body) == (200, pool("ws", R1, 5, None))
            listed = client.request("pool_list", {})
            assert [found["name"] for found in listed.body["pools"]] == ["ws"]
            assert client.request("flavor_create", {"flavor_name": "f",
                                                    "pool_list": ["ws"]}).status == 201
            assert client.request("flavor_get", {"flavor_name": "f"}).body["pool_list"] == [
                "ws"]
            assert client.request("flavor_delete", {"flavor_name": "f"}).status == 204
        finally:
            assert client.request("pool_delete", {"pool_name": "ws"}).status == 204


def test_the_home_document_lists_the_admin_api(admin: Rest):
    resources = admin.get("/v2/").json()["resources"]
    assert resources["rel/pools"]["href-template"] == "/v2/pools{?detailed,limit,marker}"
    assert resources["rel/flavor"]["hints"]["allow"] == ["GET", "PUT", "PATCH", "DELETE"]
    assert resources["rel/health"]["href"] == "/v2/health"


def test_a_pool_that_holds_queues_is_deleted_only_once_they_are(admin: Rest):
    """Upstream's SQL store deletes it, and its queues' catalog entries with it; its
    MongoDB and Redis stores refuse with 403 the last pool of a flavor. Ours refuses any
    pool a queue lives on, with that status."""
    queue = f"q-{uuid.uuid4().hex[:8]}"
    assert admin.put("/v2/pools/busy", json={
        "weight": 1, "uri": R1, "options": OPTIONS}).status_code == 201
    assert admin.put(f"/v2/queues/{queue}", json={}).status_code == 201
    resp = admin.delete("/v2/pools/busy")
    assert resp.status_code == 403
    assert resp.json()["title"] == "Unable to delete"
    assert admin.get("/v2/pools/busy").status_code == 200
    assert admin.delete(f"/v2/queues/{queue}").status_code == 204
    assert admin.delete("/v2/pools/busy").status_code == 204
    assert admin.get("/v2/pools/busy").status_code == 404



@pytest.mark.parametrize("override", ["[DEFAULT]\nadmin_mode = true\n",
                                      "[DEFAULT]\npooling = true\n"])
def test_without_admin_mode_and_pooling_both_the_routes_are_404(tmp_path, override):
    """As upstream: its private endpoints are served in admin mode, pools and flavors
    among them only with pooling."""
    with running_server(tmp_path, override, websocket_ready=True) as server:
        rest = Rest(server.url)
        for path in ("/v2/pools", "/v2/pools/p1", "/v2/flavors", "/v2/flavors/f1"):
            resp = rest.get(path)
            assert resp.status_code == 404, path
            assert set(resp.json()) == {"title", "description"}
        assert rest.put("/v2/pools/p1", json={"weight": 1, "uri": R1}).status_code == 404
        resources = rest.get("/v2/").json()["resources"]
        assert not any(name.startswith(("rel/pool", "rel/flavor")) for name in resources)
        with connections(server.ws_url) as open_client:
            assert open_client().request("pool_list", {}).status == 400


def test_schemathesis_finds_no_5xx_and_no_answer_off_the_document_in_the_admin_api(
        pooled_server: ServerProcess, tmp_path):
    """tests/functional/test_openapi.py's run, on the pools and flavors operations of a
    server with admin_mode and pooling (its own server runs without them)."""
    st = Path(sys.executable).with_name("st")
    command = [
        str(st), "run", f"{pooled_server.url}/v2/openapi.json", "--url", pooled_server.url,
        "-H", f"Client-ID: {uuid.uuid4()}", "-H", "X-Project-ID: openapi-fuzz-admin",
        "--include-path-regex", "^/v2/(pools|flavors)",
        "--checks", openapi_test.CHECKS, "--max-examples", str(openapi_test.MAX_EXAMPLES),
        "--max-time", str(ADMIN_FUZZ_SECONDS), "--seed", "13", "--continue-on-failure",
        "--generation-database", "none", "--suppress-health-check", "all",
    ]
    env = {**os.environ, "SCHEMATHESIS_HOOKS": "tests.functional.openapi_hooks",
           "PYTHONPATH": str(openapi_test.ROOT)}
    run = subprocess.run(command, capture_output=True, text=True, cwd=tmp_path, env=env,
                         timeout=ADMIN_FUZZ_SECONDS + 120)
    print(run.stdout[-3000:])
    assert run.returncode == 0, run.stdout[-20000:] + run.stderr[-5000:]
