"""The OpenAPI document at /v2/openapi.json, against a real server: served without a
Client-ID or a project, and fuzzed by schemathesis (its command line, every phase:
examples, coverage, fuzzing, and stateful sequences along the document's links): no
request gets a 5xx, every response matches the document (status, media type, body
schema, headers).

Bounded for CI: MAX_EXAMPLES cases per operation and phase, RUN_SECONDS at most; both
may be raised through ZAQAR_TEST_OPENAPI_EXAMPLES / ZAQAR_TEST_OPENAPI_SECONDS."""
import os
import subprocess
import sys
import uuid
from pathlib import Path

import requests

from tests.functional.conftest import ServerProcess

MAX_EXAMPLES = int(os.environ.get("ZAQAR_TEST_OPENAPI_EXAMPLES", "20"))
RUN_SECONDS = int(os.environ.get("ZAQAR_TEST_OPENAPI_SECONDS", "90"))
ROOT = Path(__file__).resolve().parents[2]
CHECKS = ("not_a_server_error,status_code_conformance,content_type_conformance,"
          "response_headers_conformance,response_schema_conformance")


def test_the_document_needs_no_client_id_nor_project(zaqar_server: ServerProcess):
    resp = requests.get(zaqar_server.url + "/v2/openapi.json", timeout=10)
    assert resp.status_code == 200
    assert resp.headers["Content-Type"] == "application/json"
    document = resp.json()
    assert document["openapi"] == "3.1.0"
    assert "/v2/queues/{queue_name}/messages" in document["paths"]


def test_schemathesis_finds_no_5xx_and_no_answer_off_the_document(
        zaqar_server: ServerProcess, tmp_path: Path):
    st = Path(sys.executable).with_name("st")
    command = [
        str(st), "run", f"{zaqar_server.url}/v2/openapi.json", "--url", zaqar_server.url,
        # A valid client and a project of this test's own, so requests reach the actions
        # (requests refused before that are covered elsewhere).
        "-H", f"Client-ID: {uuid.uuid4()}", "-H", "X-Project-ID: openapi-fuzz",
        "--checks", CHECKS, "--max-examples", str(MAX_EXAMPLES),
        "--max-time", str(RUN_SECONDS), "--seed", "13", "--continue-on-failure",
        "--generation-database", "none", "--suppress-health-check", "all",
    ]
    env = {**os.environ, "SCHEMATHESIS_HOOKS": "tests.functional.openapi_hooks",
           "PYTHONPATH": str(ROOT)}
    run = subprocess.run(command, capture_output=True, text=True, cwd=tmp_path, env=env,
                         timeout=RUN_SECONDS + 120)
    print(run.stdout[-3000:])
    assert run.returncode == 0, run.stdout[-20000:] + run.stderr[-5000:]
