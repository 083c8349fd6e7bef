"""A thousand idle websocket connections against one server (default SQLite storage, two
websocket processes): all accepted, all still answering a ``ping_node`` after idling,
and the server's memory per connection: the resident set size of the websocket
processes (from /proc) before they were opened and while they are open."""
import json
import time
import uuid

import websocket

from tests.torture.server import TortureServer, rss_bytes, tracebacks

IDLE_SECONDS = {"ci": 3.0, "full": 20.0}  # under ping_interval (30 s): nobody is pinged


def test_idle_connections_are_all_accepted_and_answer_afterwards(tmp_path, scale, figures):
    server = TortureServer(tmp_path)
    server.start()
    connections: list[websocket.WebSocket] = []
    try:
        pids = server.websocket_pids()
        assert len(pids) == 2, pids
        time.sleep(1)  # let the processes settle after their first handshakes
        before = sum(rss_bytes(pid) for pid in pids)
        started = time.monotonic()
        for _ in range(scale.idle_connections):
            connections.append(websocket.create_connection(server.ws_url, timeout=30))
        opened_in = time.monotonic() - started
        time.sleep(IDLE_SECONDS[scale.name])
        during = sum(rss_bytes(pid) for pid in pids)

        headers = {"Client-ID": str(uuid.uuid4()), "X-Project-ID": "torture-idle"}
        ping = json.dumps({"action": "ping_node", "headers": headers, "body": {}})
        started = time.monotonic()
        for conn in connections:
            conn.send(ping)
        statuses = [json.loads(conn.recv())["headers"]["status"] for conn in connections]
        answered_in = time.monotonic() - started
        per_connection = (during - before) / len(connections)
        figures.update(connections=len(connections), websocket_processes=len(pids),
                       opened_in_seconds=round(opened_in, 2), idle_seconds=IDLE_SECONDS[
                           scale.name], pings_answered_in_seconds=round(answered_in, 2),
                       rss_before_mib=round(before / 2 ** 20, 1),
                       rss_with_connections_mib=round(during / 2 ** 20, 1),
                       rss_per_connection_kib=round(per_connection / 1024, 1))
        assert statuses == [204] * len(connections)
        assert per_connection < 256 * 1024, "more than 256 KiB per idle connection"
    finally:
        for conn in connections:
            conn.close(timeout=1)
        figures["sigterm_stop_seconds"] = server.stop() if server.process.poll() is None \
            else None
        server.kill()
    assert tracebacks(server.output()) == []
