"""REST and websocket are two doors to the same actions: one scenario walked through
both, against the same running server (a queue each), answers the same statuses and
the same bodies once the volatile parts (ids, claim ids, ages, times) are normalised, and
once the REST body is put in the shape upstream's websocket API gives it (written out
here on its own, from upstream's answers, not taken from the server's code)."""
import re
from collections.abc import Callable
from typing import Any

import pytest

from tests.functional.conftest import Rest
from tests.functional.websocket_client import WsClient, connections

MESSAGES = [{"body": {"order": 1}, "ttl": 300}, {"body": {"order": 2}, "ttl": 600},
            {"body": ["three", None, 3.5], "ttl": 900}]

# One step: (action, websocket body, REST method, REST path, REST JSON document).
# "{q}", "{m0}" and "{claim}" are filled in as the scenario learns them.
STEPS = [
    ("queue_create", {}, "PUT", "/v2/queues/{q}", None),
    ("message_post", {"messages": MESSAGES}, "POST", "/v2/queues/{q}/messages",
     {"messages": MESSAGES}),
    ("message_list", {"echo": True}, "GET", "/v2/queues/{q}/messages?echo=true", None),
    ("claim_create", {"limit": 1, "ttl": 300, "grace": 60}, "POST",
     "/v2/queues/{q}/claims?limit=1", {"ttl": 300, "grace": 60}),
    ("claim_get", {"claim_id": "{claim}"}, "GET", "/v2/queues/{q}/claims/{claim}", None),
    ("claim_update", {"claim_id": "{claim}", "ttl": 400, "grace": 60}, "PATCH",
     "/v2/queues/{q}/claims/{claim}", {"ttl": 400, "grace": 60}),
    ("claim_get", {"claim_id": "{claim}"}, "GET", "/v2/queues/{q}/claims/{claim}", None),
    ("message_delete", {"message_id": "{m1}"}, "DELETE", "/v2/queues/{q}/messages/{m1}", None),
    ("message_delete", {"message_id": "{m0}"}, "DELETE", "/v2/queues/{q}/messages/{m0}", None),
    ("message_delete", {"message_id": "{m0}", "claim_id": "{claim}"}, "DELETE",
     "/v2/queues/{q}/messages/{m0}?claim_id={claim}", None),
    ("message_list", {"echo": True, "include_claimed": True}, "GET",
     "/v2/queues/{q}/messages?echo=true&include_claimed=true", None),
    ("queue_get_stats", {}, "GET", "/v2/queues/{q}/stats", None),
    ("queue_purge", {"resource_types": ["messages"]}, "POST", "/v2/queues/{q}/purge",
     {"resource_types": ["messages"]}),
    ("queue_get_stats", {}, "GET", "/v2/queues/{q}/stats", None),
    ("queue_delete", {}, "DELETE", "/v2/queues/{q}", None),
    ("queue_get", {}, "GET", "/v2/queues/{q}", None),
]

Call = Callable[[int, dict[str, str]], tuple[int, Any]]


def fill(template: Any, known: dict[str, str]) -> Any:
    if isinstance(template, str):
        return re.sub(r"\{(\w+)\}", lambda m: known[m.group(1)], template)
    if isinstance(template, dict):
        return {key: fill(value, known) for key, value in template.items()}
    if isinstance(template, list):
        return [fill(value, known) for value in template]
    return template


class Normaliser:
    """Replaces what differs between two runs of the scenario by stable names: the
    project, queue name, message and claim ids (as values, inside hrefs and quoted in
    error descriptions), ages and times."""

    ID_KEYS = ("id", "claim_id", "message_ids")
    IN_TEXT = re.compile(r"(/queues/|/messages/|/claims/|claim_id=|marker=|'|Queue |Claim )"
                         r"([\w-]+)")

    def __init__(self, known: dict[str, str]) -> None:
        self.names = {value: f"<{name}>" for name, value in known.items()}

    def __call__(self, value: Any, key: str | None = None) -> Any:
        if key in ("age", "created"):
            return f"<{key}>"
        if isinstance(value, dict):
            return {k: self(v, k) for k, v in value.items()}
        if isinstance(value, list):
            return [self(v, key) for v in value]
        if isinstance(value, str) and key in self.ID_KEYS:
            return self.names.get(value, value)
        if isinstance(value, str):
            return self.IN_TEXT.sub(
                lambda m: m.group(1) + self.names.get(m.group(2), m.group(2)), value)
        return value


def _item(message: dict[str, Any]) -> dict[str, Any]:
    return {"id": message["id"], "claim_id": message.get("claim_id"), "ttl": message["ttl"],
            "age": message["age"], "body": message["body"]}


def as_upstream_websocket(action: str, known: dict[str, str], status: int, body: Any) -> Any:
    """What upstream's websocket API answers where its REST API answers ``body``."""
    if status >= 400:
        return body
    if action == "queue_create":
        return f"Queue {known['q']} created."
    if action == "queue_delete":
        return f"Queue {known['q']} removed."
    if action == "claim_update":
        return f"Claim {known['claim']} updated."
    if action == "message_post":
        return {"message_ids": body["message_ids"]}
    if action in ("message_list", "claim_create"):
        return {**{key: value for key, value in body.items() if key != "links"},
                "messages": [_item(message) for message in body["messages"]]}
    if action == "claim_get":
        return {"age": body["age"], "ttl": body["ttl"],
                "messages": [_item(message) for message in body["messages"]]}
    if action == "queue_get_stats":
        counts = body["messages"]
        return {"messages": {key: {k: v for k, v in value.items() if k != "href"}
                             if isinstance(value, dict) else value
                             for key, value in counts.items()}}
    return body


def run_scenario(call: Call, queue: str, project: str) -> list[tuple[str, int, Any]]:
    known = {"q": queue, "project": project}
    answers = []
    for index, (action, *_rest) in enumerate(STEPS):
        status, body = call(index, known)
        if action == "message_post" and status == 201:
            known.update({f"m{n}": message_id
                          for n, message_id in enumerate(body["message_ids"])})
        if action == "claim_create" and status == 201:
            known["claim"] = body["claim_id"]
        answers.append((action, status, body))
    normalise = Normaliser(known)
    return [(action, status, normalise(body)) for action, status, body in answers]


@pytest.fixture
def ws(websocket_url):
    with connections(websocket_url) as open_client:
        yield open_client()


def test_rest_and_websocket_answer_the_same_scenario_alike(ws: WsClient, zaqar_server):
    rest = Rest(zaqar_server.url)

    def over_rest(index: int, known: dict[str, str]) -> tuple[int, Any]:
        _action, _body, method, path, document = STEPS[index]
        resp = rest.request(method, fill(path, known), json=fill(document, known))
        return resp.status_code, resp.json() if resp.content else {}

    def over_websocket(index: int, known: dict[str, str]) -> tuple[int, Any]:
        action, body, *_rest = STEPS[index]
        reply = ws.request(action, {"queue_name": known["q"], **fill(body, known)})
        if reply.status >= 400:
            # Websocket errors repeat the description under upstream's "error" (what
            # python-zaqarclient reads) and "exception"; the rest of the body is REST's.
            assert reply.body.pop("error") == reply.body["description"]
            assert reply.body.pop("exception") == reply.body["description"]
        return reply.status, reply.body

    def over_rest_as_websocket(index: int, known: dict[str, str]) -> tuple[int, Any]:
        status, body = over_rest(index, known)
        return status, as_upstream_websocket(STEPS[index][0], known, status, body)

    by_rest = run_scenario(over_rest_as_websocket, "parity-rest", rest.project)
    by_websocket = run_scenario(over_websocket, "parity-ws", ws.project)
    rest.close()
    assert [(action, status) for action, status, _ in by_rest] == [
        ("queue_create", 201), ("message_post", 201), ("message_list", 200),
        ("claim_create", 201), ("claim_get", 200), ("claim_update", 204), ("claim_get", 200),
        ("message_delete", 204), ("message_delete", 403), ("message_delete", 204),
        ("message_list", 200), ("queue_get_stats", 200), ("queue_purge", 204),
        ("queue_get_stats", 200), ("queue_delete", 204), ("queue_get", 200)]
    for step, (rest_answer, websocket_answer) in enumerate(zip(by_rest, by_websocket,
                                                              strict=True)):
        assert rest_answer == websocket_answer, f"step {step}: {STEPS[step][0]}"
