"""How websocket connections end, against a real server: close frames RFC 6455 does not
allow are answered with a 1002 or 1007 close (not a TCP drop), and a stopping server
closes every connection with 1001 "going away"."""
import signal
import struct
import time

import pytest
import websocket

from tests.functional.conftest import running_server
from tests.functional.websocket_client import WsClient, connections


@pytest.fixture
def connect(websocket_url):
    with connections(websocket_url) as open_client:
        yield open_client


def close_frame_received(client: WsClient) -> tuple[int, bytes]:
    """The code and reason of the server's close frame (fails on anything else: a TCP
    drop raises)."""
    opcode, frame = client.conn.recv_data_frame(control_frame=True)
    assert opcode == websocket.ABNF.OPCODE_CLOSE, (opcode, frame.data)
    [code] = struct.unpack("!H", frame.data[:2])
    return code, frame.data[2:]


@pytest.mark.parametrize(("payload", "expected"), [
    (struct.pack("!H", 999), 1002),
    (struct.pack("!H", 1005), 1002),
    (struct.pack("!H", 1006), 1002),
    (struct.pack("!H", 5000), 1002),
    (b"\x03", 1002),
    (struct.pack("!H", 1000) + b"bye \xff\xfe", 1007),
], ids=["code-999", "code-1005", "code-1006", "code-5000", "1-byte-payload",
        "reason-not-utf8"])
def test_close_frame_not_allowed_gets_a_protocol_close(connect, payload, expected):
    client = connect()
    assert client.request("ping").status == 204
    client.conn.send(payload, opcode=websocket.ABNF.OPCODE_CLOSE)
    code, reason = close_frame_received(client)
    assert code == expected, reason
    reason.decode()  # ours is UTF-8
    # ... and another connection is served as before.
    assert connect().request("ping").status == 204


@pytest.mark.parametrize("code", [1000, 1001, 3000, 4999])
def test_close_frame_allowed_is_answered_with_1000(connect, code):
    client = connect()
    client.conn.send(struct.pack("!H", code) + b"done", opcode=websocket.ABNF.OPCODE_CLOSE)
    assert close_frame_received(client)[0] == 1000


def test_stopping_server_closes_every_connection_with_1001(tmp_path):
    with running_server(tmp_path, websocket_ready=True) as server:
        clients = [WsClient(server.ws_url) for _ in range(3)]
        for client in clients:
            assert client.request("ping").status == 204
        server.process.send_signal(signal.SIGTERM)
        for client in clients:
            code, reason = close_frame_received(client)
            assert (code, reason) == (1001, b"server shutting down")
            client.close()
        assert server.process.wait(timeout=15) == 0
    # running_server checked the exit: code 0 and no traceback in the log.


def test_a_peer_that_does_not_answer_pings_gets_a_4001_close(tmp_path):
    override = "[drivers:transport:websocket]\nping_interval = 1\nping_timeout = 1\n"
    with running_server(tmp_path, override, websocket_ready=True) as server:
        client = WsClient(server.ws_url)
        assert client.request("ping").status == 204
        time.sleep(3)  # not reading: the server's ping goes unanswered
        opcode, frame = client.conn.recv_data_frame(control_frame=True)
        while opcode == websocket.ABNF.OPCODE_PING:  # read now, too late to answer
            opcode, frame = client.conn.recv_data_frame(control_frame=True)
        assert opcode == websocket.ABNF.OPCODE_CLOSE
        assert struct.unpack("!H", frame.data[:2])[0] == 4001
        client.close()
