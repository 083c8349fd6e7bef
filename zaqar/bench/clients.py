"""Minimal wire clients for the benchmark: the same calls over REST and over websocket."""
import json
import uuid
from typing import Any

import msgpack
import requests
import websocket


class RestClient:
    def __init__(self, url: str, project: str) -> None:
        self.base = url.rstrip("/") + "/v2"
        self.session = requests.Session()
        self.session.headers.update({"Client-ID": str(uuid.uuid4()), "X-Project-ID": project,
                                     "Content-Type": "application/json"})

    def create_queue(self, queue: str) -> None:
        self.session.put(f"{self.base}/queues/{queue}").raise_for_status()

    def post(self, queue: str, messages: list[dict[str, Any]]) -> bool:
        response = self.session.post(f"{self.base}/queues/{queue}/messages",
                                     data=json.dumps({"messages": messages}))
        return response.status_code == 201

    def claim(self, queue: str, limit: int) -> tuple[str | None, list[str], bool]:
        """(claim id, message ids, ok); no claim id when nothing was claimable."""
        response = self.session.post(f"{self.base}/queues/{queue}/claims?limit={limit}",
                                     data='{"ttl": 60, "grace": 60}')
        if response.status_code == 204:
            return None, [], True
        if response.status_code != 201:
            return None, [], False
        body = response.json()
        return body["claim_id"], [m["id"] for m in body["messages"]], True

    def delete(self, queue: str, ids: list[str], claim_id: str) -> bool:
        response = self.session.delete(f"{self.base}/queues/{queue}/messages",
                                       params={"ids": ",".join(ids), "claim_ids": claim_id})
        return response.status_code == 204

    def list(self, queue: str, marker: str | None) -> tuple[list[str], bool]:
        params = {"limit": 20, "echo": "true", "include_claimed": "true"}
        if marker:
            params["marker"] = marker
        response = self.session.get(f"{self.base}/queues/{queue}/messages", params=params)
        if response.status_code != 200:
            return [], False
        return [m["id"] for m in response.json()["messages"]], True


class WebsocketClient:
    def __init__(self, url: str, project: str, binary: bool) -> None:
        self.ws = websocket.create_connection(url, timeout=30)
        self.headers = {"Client-ID": str(uuid.uuid4()), "X-Project-ID": project}
        self.binary = binary

    def send(self, action: str, body: dict[str, Any]) -> None:
        frame = {"action": action, "headers": self.headers, "body": body}
        if self.binary:
            self.ws.send_binary(msgpack.packb(frame))
        else:
            self.ws.send(json.dumps(frame))

    def receive(self) -> tuple[int, Any]:
        opcode, data = self.ws.recv_data()
        reply = (msgpack.unpackb(data, raw=False) if opcode == websocket.ABNF.OPCODE_BINARY
                 else json.loads(data))
        return reply["headers"]["status"], reply.get("body")

    def call(self, action: str, body: dict[str, Any]) -> tuple[int, Any]:
        self.send(action, body)
        return self.receive()

    def create_queue(self, queue: str) -> None:
        self.call("queue_create", {"queue_name": queue})

    def claim(self, queue: str, limit: int) -> tuple[str | None, list[str], bool]:
        status, body = self.call("claim_create", {"queue_name": queue, "limit": limit,
                                                  "ttl": 60, "grace": 60})
        if status == 204:
            return None, [], True
        if status != 201:
            return None, [], False
        return body["claim_id"], [m["id"] for m in body["messages"]], True

    def delete(self, queue: str, ids: list[str], claim_id: str) -> bool:
        status, _ = self.call("message_delete_many", {"queue_name": queue, "message_ids": ids,
                                                      "claim_ids": [claim_id]})
        return status == 204

    def list(self, queue: str, marker: str | None) -> tuple[list[str], bool]:
        body: dict[str, Any] = {"queue_name": queue, "limit": 20, "echo": True,
                                "include_claimed": True}
        if marker:
            body["marker"] = marker
        status, reply = self.call("message_list", body)
        if status != 200:
            return [], False
        return [m["id"] for m in reply["messages"]], True
