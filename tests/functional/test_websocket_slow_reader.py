"""A subscriber that never reads (issue 13, defect 5), against a real server: what the
server keeps for it is bounded (MAX_SEND_BACKLOG beyond the transport's buffer), then it
is closed with 4008, while posts to its queue go on and the server's memory stays flat.
``pytest -s`` prints the memory figures."""
import json
import struct
import threading
import time
from pathlib import Path

import websocket

from tests.functional.conftest import Rest, ServerProcess, running_server, server_processes
from tests.functional.websocket_client import WsClient, subscribe_here
from zaqar.transport.websocket.protocol import CLOSE_TOO_SLOW, MAX_SEND_BACKLOG

MESSAGE = {"body": {"blob": "x" * 200_000}, "ttl": 300}  # ~200 KB a post
POST_BODY = json.dumps({"messages": [MESSAGE]})
OVERFLOW_LOGGED = "still unread"
AFTER_CLOSE = 64 * 1024 * 1024  # posted after the close, while memory must stay flat


def websocket_processes(server: ServerProcess) -> list[int]:
    """Pids of the server's websocket processes."""
    return server_processes(server.process.pid, "websocket")


def rss_bytes(pids: list[int]) -> int:
    total = 0
    for pid in pids:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1]) * 1024
    return total


def read_until_close(client: WsClient, outcome: dict) -> None:
    """Drain the connection: count what arrives, then keep the close code."""
    client.conn.settimeout(20)
    try:
        while True:
            opcode, frame = client.conn.recv_data_frame(control_frame=True)
            if opcode == websocket.ABNF.OPCODE_CLOSE:
                outcome["code"] = struct.unpack("!H", frame.data[:2])[0]
                return
            outcome["frames"] = outcome.get("frames", 0) + 1
    except Exception as error:  # the assertion below reports it
        outcome["error"] = repr(error)


def test_subscriber_that_never_reads_is_closed_and_memory_stays_bounded(tmp_path):
    # close_timeout: the reader starts draining (the backlog, then the close frame) only
    # once the close is logged, which takes a while on a loaded machine.
    override = "[drivers:transport:websocket]\nworkers = 1\nclose_timeout = 60\n"
    with running_server(tmp_path, override, websocket_ready=True) as server:
        pids = websocket_processes(server)
        rest = Rest(server.url)
        reader = WsClient(server.ws_url, project=rest.project)
        subscribe_here(reader, "firehose")
        baseline = rss_bytes(pids)
        outcome: dict = {}
        drain = threading.Thread(target=read_until_close, args=(reader, outcome))
        posted = peak = at_close = 0
        overflow_at = None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            resp = rest.post("/v2/queues/firehose/messages", data=POST_BODY,
                             headers={"Content-Type": "application/json"})
            assert resp.status_code == 201, resp.text
            posted += len(POST_BODY)
            peak = max(peak, rss_bytes(pids))
            if overflow_at is None and OVERFLOW_LOGGED in server.output():
                overflow_at, at_close = posted, rss_bytes(pids)
                drain.start()  # now read: the close frame follows what was queued
            if overflow_at is not None and posted - overflow_at > AFTER_CLOSE:
                break
        drain.join(30)
        print(f"\nslow subscriber: {posted / 2**20:.0f} MiB posted, closed after "
              f"{(overflow_at or 0) / 2**20:.1f} MiB; websocket process RSS "
              f"{baseline / 2**20:.1f} MiB before, peak {peak / 2**20:.1f} MiB "
              f"(+{(peak - baseline) / 2**20:.1f} MiB), {at_close / 2**20:.1f} MiB at the "
              f"close; {outcome.get('frames', 0)} frames read, close code "
              f"{outcome.get('code')}")
        assert overflow_at is not None, "the slow subscriber was never closed"
        assert outcome.get("code") == CLOSE_TOO_SLOW, outcome
        # The backlog, the transport's buffer, push frames being encoded and the
        # allocator's slack (pages of 20 messages of 200 KB decoded and encoded): a few
        # times the backlog, less than what was posted ...
        assert peak - baseline < 6 * MAX_SEND_BACKLOG < posted, (baseline, peak)
        # ... and nothing more while AFTER_CLOSE more were posted after the close.
        assert peak - at_close < MAX_SEND_BACKLOG, (at_close, peak)
        rest.close()
        reader.close()
