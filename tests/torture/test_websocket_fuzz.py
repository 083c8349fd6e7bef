"""A websocket frame fuzzer (hypothesis) against one real ``zaqar-server``.

Frames of every kind: valid actions with mutated bodies and headers, random JSON,
random MsgPack, random bytes in binary frames, deep nesting, huge integers, text frames
that are not UTF-8. After each one, a ``ping_node`` follows on the same connection: the
fuzzed frame must get exactly one reply (a document echoing a request, with a status
that is not 500) before the ping's own reply, or the connection must end with the close
code docs/websocket.md documents for it (1007 for a text frame that is not UTF-8, 1009
for a frame over max_frame_size), as a close frame: never a bare TCP drop, never
silence. The server's log must hold no traceback at the end.
"""
import json
import struct
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import msgpack
import pytest
import websocket
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.functional.conftest import ServerProcess, running_server
from tests.torture.server import tracebacks

REPLY_TIMEOUT = 20.0  # seconds; the machine may be loaded
MAX_FRAME_SIZE = 1024 * 1024  # the server's default max_frame_size
PROJECT = "torture-fuzz"
HEADERS = {"Client-ID": "6f0b3a52-9d4e-4c55-8d73-3b3b1f1c2a10", "X-Project-ID": PROJECT}
ACTIONS = (
    "queue_create", "queue_list", "queue_get", "queue_update", "queue_delete",
    "queue_get_stats", "queue_purge", "queue_share", "message_post", "message_list",
    "message_get", "message_get_many", "message_delete", "message_delete_many", "message_pop",
    "claim_create", "claim_get", "claim_update", "claim_delete", "subscription_create",
    "subscription_list", "subscription_get", "subscription_delete", "subscription_update",
    "subscription_confirm", "topic_create", "topic_list", "topic_get", "topic_update",
    "topic_delete", "topic_get_stats", "topic_purge", "topic_message_post",
    "topic_message_list", "topic_message_get", "topic_message_delete",
    "topic_subscription_create", "topic_subscription_list", "ping", "ping_node", "health",
    "check_node_health", "get_home_doc", "authenticate")
BODY_KEYS = ("queue_name", "topic_name", "messages", "message_id", "message_ids", "claim_id",
             "claim_ids", "limit", "marker", "ttl", "grace", "echo", "include_claimed",
             "include_delayed", "detailed", "with_count", "metadata", "patch", "pop",
             "subscriber", "subscription_id", "options", "confirmed", "resource_types",
             "methods", "paths", "expires", "body", "delay")


@dataclass
class Outcomes:
    """What the fuzzed frames got, for the figures."""
    frames: int = 0
    replies: Counter = field(default_factory=Counter)  # by status
    closes: Counter = field(default_factory=Counter)  # by close code
    reconnects: int = 0


class Closed(Exception):
    def __init__(self, code: int | None) -> None:
        super().__init__(f"closed with {code}")
        self.code = code


class Fuzzer:
    """One connection, reopened after each close; sends a frame and judges the answer."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.conn: websocket.WebSocket | None = None
        self.outcomes = Outcomes()

    def _connection(self) -> websocket.WebSocket:
        if self.conn is None:
            self.conn = websocket.create_connection(self.url, timeout=REPLY_TIMEOUT)
            self.outcomes.reconnects += 1
        return self.conn

    def _next_reply(self) -> tuple[Any, bool]:
        """The next reply (pushes skipped), decoded, and whether it came as MsgPack;
        raises Closed for a close frame, and fails the test on a drop or silence."""
        conn = self._connection()
        while True:
            try:
                opcode, data = conn.recv_data(control_frame=True)
            except websocket.WebSocketTimeoutException:
                pytest.fail(f"no reply within {REPLY_TIMEOUT} s", pytrace=False)
            except (websocket.WebSocketConnectionClosedException, ConnectionError) as error:
                self.conn = None
                pytest.fail(f"connection dropped without a close frame: {error!r}",
                            pytrace=False)
            if opcode == websocket.ABNF.OPCODE_CLOSE:
                self.conn = None
                raise Closed(struct.unpack("!H", data[:2])[0] if len(data) >= 2 else None)
            if opcode in (websocket.ABNF.OPCODE_PING, websocket.ABNF.OPCODE_PONG):
                continue
            binary = opcode == websocket.ABNF.OPCODE_BINARY
            document = (msgpack.unpackb(data, raw=False, strict_map_key=False) if binary
                        else json.loads(data))
            if isinstance(document, dict) and document.get("action") == "message_push":
                continue
            return document, binary

    def check(self, payload: bytes | str, binary: bool, close_codes: frozenset[int]) -> None:
        """Send one frame; it gets one reply before the following ping's, or a close
        with one of ``close_codes``."""
        self.outcomes.frames += 1
        try:
            self._check(payload, binary, close_codes)
        except BaseException:
            self.close()  # a failed exchange leaves the connection in no known state
            raise

    def _check(self, payload: bytes | str, binary: bool, close_codes: frozenset[int]) -> None:
        opcode = websocket.ABNF.OPCODE_BINARY if binary else websocket.ABNF.OPCODE_TEXT
        data = payload.encode() if isinstance(payload, str) else payload
        conn = self._connection()
        conn.send_frame(websocket.ABNF.create_frame(data, opcode))
        try:
            document, _ = self._next_reply()
        except Closed as closed:
            self.outcomes.closes[closed.code] += 1
            assert closed.code in close_codes, f"closed with {closed.code}, not {close_codes}"
            return
        assert isinstance(document, dict) and "request" in document, document
        status = document["headers"]["status"]
        self.outcomes.replies[status] += 1
        assert isinstance(status, int) and status != 500, document
        conn.send(json.dumps({"action": "ping_node", "headers": HEADERS, "body": {}}))
        try:
            ping, _ = self._next_reply()
        except Closed as closed:
            pytest.fail(f"the ping after a replied frame got a close ({closed.code})",
                        pytrace=False)
        assert ping["request"]["action"] == "ping_node", f"a second reply: {ping}"
        assert ping["headers"]["status"] == 204, ping

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close(timeout=1)
            self.conn = None


@pytest.fixture(scope="module")
def fuzz_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """The default server (SQLite); leaving, it must stop cleanly with no traceback."""
    with running_server(tmp_path_factory.mktemp("fuzz"), websocket_ready=True) as server:
        yield server
    assert tracebacks(server.output()) == []


@pytest.fixture(scope="module")
def fuzzer(fuzz_server: ServerProcess) -> Iterator[Fuzzer]:
    client = Fuzzer(fuzz_server.ws_url)
    yield client
    client.close()


@pytest.fixture
def fuzz_settings(scale: Any) -> settings:
    return settings(max_examples=scale.fuzz_examples, deadline=None, database=None,
                    suppress_health_check=list(HealthCheck))


def _run(fuzz_settings: settings, strategy: st.SearchStrategy, judge: Any) -> None:
    fuzz_settings(given(strategy)(judge))()


# -- strategies ----------------------------------------------------------------------

INTS_64 = st.integers(min_value=-(2 ** 63), max_value=2 ** 64 - 1)
HUGE_INTS = st.integers(min_value=-(10 ** 400), max_value=10 ** 400)
NAMES = st.one_of(st.sampled_from(["q", "fuzz", "a" * 64, "a" * 65, "", "bad name", "ü"]),
                  st.text(max_size=70))


def _values(integers: st.SearchStrategy) -> st.SearchStrategy:
    scalars = st.one_of(st.none(), st.booleans(), integers, st.floats(), st.text(max_size=40),
                        NAMES)
    return st.recursive(scalars, lambda inner: st.one_of(
        st.lists(inner, max_size=5),
        st.dictionaries(st.one_of(st.sampled_from(BODY_KEYS), st.text(max_size=10)), inner,
                        max_size=5)), max_leaves=20)


def _headers() -> st.SearchStrategy:
    valid = st.fixed_dictionaries({"Client-ID": st.just(HEADERS["Client-ID"]),
                                   "X-Project-ID": st.just(PROJECT)})
    mutated = st.dictionaries(
        st.sampled_from(["Client-ID", "X-Project-ID", "X-Auth-Token", "URL-Signature",
                         "URL-Expires", "URL-Methods", "URL-Paths", "client-id", "Accept"]),
        _values(INTS_64), max_size=4)
    return st.one_of(valid, valid, mutated, _values(INTS_64))


def _documents(integers: st.SearchStrategy) -> st.SearchStrategy:
    """Frames that look like requests: a known action, a mutated body and headers."""
    messages = st.lists(st.fixed_dictionaries({"body": _values(integers)}, optional={
        "ttl": st.one_of(integers, st.sampled_from([60, 300, 1209600])),
        "delay": integers}), max_size=3)
    optional = {key: _values(integers) for key in BODY_KEYS if key != "queue_name"}
    optional["messages"] = st.one_of(messages, messages, _values(integers))
    body = st.one_of(st.fixed_dictionaries({"queue_name": NAMES}, optional=optional),
                     _values(integers))
    return st.fixed_dictionaries(
        {"action": st.one_of(st.sampled_from(ACTIONS), st.sampled_from(ACTIONS),
                             _values(integers)),
         "headers": _headers(), "body": body},
        optional={"api": st.sampled_from(["v2", "v1", "v1.1", ""]),
                  "extra": _values(integers)})


def _packable(document: Any) -> bytes:
    return msgpack.packb(document, use_bin_type=True)


REPLIED = frozenset()  # a frame of valid UTF-8 (or binary) within max_frame_size: a reply
NOT_UTF8 = frozenset({1007})


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


# Valid requests, one field of which the fuzzer mutates, removes or adds.
TEMPLATES: dict[str, dict[str, Any]] = {
    "queue_create": {"queue_name": "fuzz", "metadata": {"_default_message_ttl": 300}},
    "queue_update": {"queue_name": "fuzz", "patch": [
        {"op": "replace", "path": "/metadata/k", "value": 1}]},
    "queue_get_stats": {"queue_name": "fuzz"},
    "queue_purge": {"queue_name": "fuzz", "resource_types": ["messages"]},
    "queue_share": {"queue_name": "fuzz", "methods": ["GET"], "paths": ["messages"]},
    "message_post": {"queue_name": "fuzz", "messages": [{"body": {"k": 1}, "ttl": 300}]},
    "message_list": {"queue_name": "fuzz", "limit": 5, "echo": True,
                     "include_claimed": True},
    "message_get_many": {"queue_name": "fuzz", "message_ids": ["1", "2"]},
    "message_delete_many": {"queue_name": "fuzz", "message_ids": ["1"]},
    "message_pop": {"queue_name": "fuzz", "pop": 2},
    "claim_create": {"queue_name": "fuzz", "limit": 2, "ttl": 60, "grace": 60},
    "claim_update": {"queue_name": "fuzz", "claim_id": "0" * 32, "ttl": 60},
    "subscription_create": {"queue_name": "fuzz", "subscriber": "mailto:a@example.com",
                            "ttl": 3600, "options": {}},
    "topic_message_post": {"topic_name": "fuzz", "messages": [{"body": 1}]},
    "queue_list": {"limit": 5, "detailed": True, "with_count": True},
}


@st.composite
def _mutated_requests(draw: Any, integers: st.SearchStrategy) -> dict[str, Any]:
    action = draw(st.sampled_from(sorted(TEMPLATES)))
    body = json.loads(json.dumps(TEMPLATES[action]))
    how = draw(st.sampled_from(["replace", "remove", "add", "nested"]))
    key = draw(st.sampled_from(sorted(body)))
    if how == "replace":
        body[key] = draw(_values(integers))
    elif how == "remove":
        del body[key]
    elif how == "add":
        body[draw(st.one_of(st.sampled_from(BODY_KEYS), st.text(max_size=10)))] = draw(
            _values(integers))
    elif isinstance(body[key], list) and body[key] and isinstance(body[key][0], dict):
        item = body[key][0]
        item[draw(st.sampled_from(sorted(item) + ["body", "ttl", "delay", "x"]))] = draw(
            _values(integers))
    else:
        body[key] = [body[key], draw(_values(integers))]
    return {"action": action, "headers": HEADERS, "body": body}


# -- tests ---------------------------------------------------------------------------

def test_valid_requests_with_a_mutated_field(fuzzer, fuzz_settings, figures):
    _run(fuzz_settings, st.one_of(
        st.tuples(st.just(False), _mutated_requests(HUGE_INTS).map(json.dumps)),
        st.tuples(st.just(True), _mutated_requests(INTS_64).map(_packable))),
        lambda frame: fuzzer.check(frame[1], frame[0], REPLIED))
    figures.update(frames=fuzzer.outcomes.frames)


def test_structured_json_frames(fuzzer, fuzz_settings, figures):
    _run(fuzz_settings, _documents(HUGE_INTS),
         lambda document: fuzzer.check(json.dumps(document), False, REPLIED))
    figures.update(frames=fuzzer.outcomes.frames)


def test_structured_msgpack_frames(fuzzer, fuzz_settings, figures):
    _run(fuzz_settings, _documents(INTS_64),
         lambda document: fuzzer.check(_packable(document), True, REPLIED))
    figures.update(frames=fuzzer.outcomes.frames)


def test_random_json_and_msgpack_values(fuzzer, fuzz_settings, figures):
    extension = st.builds(msgpack.ExtType, st.integers(0, 127), st.binary(max_size=20))
    _run(fuzz_settings, st.one_of(
        st.tuples(st.just(False), _values(HUGE_INTS).map(json.dumps)),
        st.tuples(st.just(True), st.one_of(_values(INTS_64), st.binary(max_size=50),
                                           extension).map(_packable))),
        lambda frame: fuzzer.check(frame[1], frame[0], REPLIED))
    figures.update(frames=fuzzer.outcomes.frames)


def test_random_bytes_in_text_and_binary_frames(fuzzer, fuzz_settings, figures):
    def judge(frame: tuple[bool, bytes]) -> None:
        binary, data = frame
        fuzzer.check(data, binary, REPLIED if binary or _is_utf8(data) else NOT_UTF8)

    _run(fuzz_settings, st.tuples(st.booleans(), st.binary(max_size=300)), judge)
    figures.update(frames=fuzzer.outcomes.frames)


def _nested(kind: str, depth: int) -> tuple[bytes | str, bool]:
    if kind == "json-array":
        return "[" * depth + "]" * depth, False
    if kind == "json-object":
        return '{"a":' * depth + "1" + "}" * depth, False
    if kind == "json-in-message":
        return json.dumps({"action": "message_post", "headers": HEADERS, "body": {
            "queue_name": "deep", "messages": [{"body": "BODY"}]}}).replace(
                '"BODY"', "[" * depth + "]" * depth), False
    if kind == "msgpack-array":
        return b"\x91" * depth + b"\xc0", True
    return b"\x81\xa1a" * depth + b"\xc0", True  # msgpack-map


def test_deep_nesting_and_huge_integers(fuzzer, fuzz_settings, figures):
    nesting = st.tuples(st.sampled_from(["json-array", "json-object", "json-in-message",
                                         "msgpack-array", "msgpack-map"]),
                        st.one_of(st.integers(min_value=1, max_value=5000),
                                  st.sampled_from([999, 1000, 1001, 3000, 100_000, 150_000])))
    huge = st.tuples(st.just("digits"), st.one_of(
        st.integers(min_value=1, max_value=5000), st.sampled_from([4300, 4301, 300_000])))

    largest: Counter = Counter()

    def judge(case: tuple[str, int]) -> None:
        kind, size = case
        largest[kind] = max(largest[kind], size)
        if kind == "digits":
            payload = json.dumps({"action": "message_post", "headers": HEADERS, "body": {
                "queue_name": "huge", "messages": [{"body": 0}]}}).replace(
                    '"body": 0', '"body": -' + "9" * size)
            fuzzer.check(payload, False, REPLIED)
        else:
            fuzzer.check(*_nested(kind, size), REPLIED)

    _run(fuzz_settings, st.one_of(nesting, huge), judge)
    figures.update(frames=fuzzer.outcomes.frames, largest_by_kind=dict(largest))
    assert largest["json-array"] >= 100_000 and largest["digits"] >= 4301


def test_frames_over_the_size_limit_close_with_1009(fuzzer, figures):
    fuzzer.check("[" + "1," * (MAX_FRAME_SIZE // 2) + "1]", False, frozenset({1009}))
    fuzzer.check(b"\x00" * (MAX_FRAME_SIZE + 1), True, frozenset({1009}))
    figures.update(frames=fuzzer.outcomes.frames)


def test_fuzz_outcomes(fuzzer, figures):
    """Last of the module: the figures of every frame sent."""
    outcomes = fuzzer.outcomes
    figures.update(frames=outcomes.frames, replies_by_status=dict(outcomes.replies),
                   closes_by_code=dict(outcomes.closes), connections=outcomes.reconnects)
    assert sum(outcomes.replies.values()) + sum(outcomes.closes.values()) == outcomes.frames
    assert 1009 in outcomes.closes and outcomes.replies[201] > 0
