"""A small websocket client of the Zaqar websocket API for the functional tests.

One :class:`WsClient` is one connection with its own Client-ID and X-Project-ID. Text
frames carry JSON and binary frames MsgPack; replies are decoded by the opcode they
arrive with, so a test can check that a reply uses its request's encoding. Frames the
server pushes unasked (``message_push``) are kept aside in :attr:`WsClient.pushes`
while a reply is awaited.
"""
import json
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import msgpack
import websocket

TIMEOUT = 10.0


@dataclass
class Frame:
    document: Any
    binary: bool  # arrived as a binary (MsgPack) frame

    @property
    def status(self) -> int:
        return self.document["headers"]["status"]

    @property
    def body(self) -> Any:
        return self.document["body"]


class WsClient:
    def __init__(self, url: str, project: str | None = None, binary: bool = False) -> None:
        self.conn = websocket.create_connection(url, timeout=TIMEOUT)
        self.project = project or f"ws-project-{uuid.uuid4().hex}"
        self.client_id = str(uuid.uuid4())
        self.binary = binary
        self.pushes: list[Frame] = []

    @property
    def headers(self) -> dict[str, str]:
        return {"Client-ID": self.client_id, "X-Project-ID": self.project}

    def frame(self, action: str, body: Any = None, headers: Any = None) -> dict[str, Any]:
        return {"action": action, "headers": self.headers if headers is None else headers,
                "body": {} if body is None else body}

    def send(self, document: Any, binary: bool | None = None) -> None:
        binary = self.binary if binary is None else binary
        if binary:
            self.send_raw(msgpack.packb(document, use_bin_type=True), binary=True)
        else:
            self.send_raw(json.dumps(document), binary=False)

    def send_raw(self, payload: str | bytes, binary: bool) -> None:
        if binary:
            self.conn.send_binary(payload)
        else:
            self.conn.send(payload)

    def receive(self, timeout: float = TIMEOUT) -> Frame:
        """The next frame, push or reply; raises websocket.WebSocketTimeoutException."""
        self.conn.settimeout(timeout)
        try:
            opcode, data = self.conn.recv_data()
        finally:
            self.conn.settimeout(TIMEOUT)
        if opcode == websocket.ABNF.OPCODE_BINARY:
            return Frame(msgpack.unpackb(data, raw=False, strict_map_key=False), binary=True)
        assert opcode == websocket.ABNF.OPCODE_TEXT, f"unexpected opcode {opcode}"
        return Frame(json.loads(data), binary=False)

    def reply(self, timeout: float = TIMEOUT) -> Frame:
        """The next reply; pushes that arrive first are kept in :attr:`pushes`."""
        deadline = time.monotonic() + timeout
        while True:
            frame = self.receive(max(0.01, deadline - time.monotonic()))
            if frame.document.get("action") == "message_push":
                self.pushes.append(frame)
                continue
            return frame

    def push(self, timeout: float = TIMEOUT) -> Frame:
        """The next pushed frame (replies must not be pending)."""
        if self.pushes:
            return self.pushes.pop(0)
        frame = self.receive(timeout)
        assert frame.document.get("action") == "message_push", frame.document
        return frame

    def request(self, action: str, body: Any = None, headers: Any = None,
                binary: bool | None = None) -> Frame:
        """Send one request and return its reply, checking that the reply echoes it."""
        document = self.frame(action, body, headers)
        self.send(document, binary)
        frame = self.reply()
        assert frame.document["request"] == echoed(document), frame.document
        assert frame.binary == (self.binary if binary is None else binary)
        return frame

    def close(self) -> None:
        self.conn.close()


SECRET_HEADERS = ("x-auth-token", "url-signature")


def echoed(document: Any) -> dict[str, Any]:
    """A request as replies echo it (upstream's shape): rebuilt from its action, body and
    headers, with ``"api": "v2"`` and the values of X-Auth-Token and URL-Signature
    redacted; a frame that is no object (or could not be decoded) as an empty request;
    ``authenticate`` as its action alone (as upstream)."""
    if not isinstance(document, dict):
        return {"action": None, "body": {}, "headers": {}, "api": "v2"}
    if document.get("action") == "authenticate":
        return {"action": "authenticate", "body": {}, "headers": {}, "api": "v2"}
    headers = document.get("headers") or {}
    if isinstance(headers, dict):
        headers = {name: "<redacted>" if str(name).lower() in SECRET_HEADERS else value
                   for name, value in headers.items()}
    return {"action": document.get("action"), "body": document.get("body", {}),
            "headers": headers, "api": "v2"}


def subscribe_here(client: WsClient, queue: str) -> str:
    """A websocket subscription: the server pushes the queue's new messages to ``client``."""
    reply = client.request("subscription_create", {"queue_name": queue, "ttl": 3600,
                                                   "options": {}})
    assert reply.status == 201, reply.document
    return reply.body["subscription_id"]


@contextmanager
def connections(url: str) -> Iterator[Any]:
    """Yields ``open(project=None, binary=False) -> WsClient``; closes them all after."""
    opened: list[WsClient] = []

    def open_client(project: str | None = None, binary: bool = False) -> WsClient:
        client = WsClient(url, project, binary)
        opened.append(client)
        return client

    try:
        yield open_client
    finally:
        for client in opened:
            client.close()
