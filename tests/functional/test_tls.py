"""https and wss from one zaqar-server ([drivers:transport:wsgi] and
[drivers:transport:websocket] cert_file, key_file, ca_file), with certificates this
suite makes (cryptography): python-zaqarclient over https and a websocket client over
wss with verification on; clients refuse an untrusted (self-signed) or expired
certificate; with ca_file, clients without a certificate are refused."""
import datetime
import json
import signal
import socket
import ssl
import subprocess
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
import websocket
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from zaqarclient.queues import client as zaqar_client

from tests.functional.conftest import _free_ports, _server_command, _write_config

STARTUP_TIMEOUT = 30.0
NOW = datetime.datetime.now(datetime.UTC)


@dataclass
class Issued:
    cert: Path
    key: Path


def _key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _write(directory: Path, name: str, cert: x509.Certificate,
           key: ec.EllipticCurvePrivateKey) -> Issued:
    cert_path, key_path = directory / f"{name}.crt", directory / f"{name}.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return Issued(cert_path, key_path)


def _certificate(subject: str, key: ec.EllipticCurvePrivateKey, issuer: x509.Name | None,
                 issuer_key: ec.EllipticCurvePrivateKey, *, ca: bool = False,
                 not_after: datetime.datetime | None = None,
                 server: bool = True) -> x509.Certificate:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)])
    builder = (x509.CertificateBuilder().subject_name(name).issuer_name(issuer or name)
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(NOW - datetime.timedelta(days=2))
               .not_valid_after(not_after or NOW + datetime.timedelta(days=30))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if not ca and server:
        builder = builder.add_extension(x509.SubjectAlternativeName(
            [x509.DNSName("localhost"), x509.IPAddress(__import__("ipaddress")
                                                        .ip_address("127.0.0.1"))]),
            critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


@dataclass
class Pki:
    ca: Path
    server: Issued
    expired: Issued
    self_signed: Issued
    client: Issued


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    directory = tmp_path_factory.mktemp("pki")
    ca_key = _key()
    ca_cert = _certificate("zaqar test CA", ca_key, None, ca_key, ca=True)
    ca = _write(directory, "ca", ca_cert, ca_key).cert

    def issued(name: str, **options) -> Issued:
        key = _key()
        return _write(directory, name, _certificate(name, key, ca_cert.subject, ca_key,
                                                    **options), key)

    lone_key = _key()
    return Pki(ca=ca, server=issued("server"),
               expired=issued("expired", not_after=NOW - datetime.timedelta(days=1)),
               self_signed=_write(directory, "self-signed",
                                  _certificate("self-signed", lone_key, None, lone_key),
                                  lone_key),
               client=issued("client", server=False))


@dataclass
class TlsServer:
    url: str
    ws_url: str
    process: subprocess.Popen


def _tls_override(issued: Issued, ca_file: Path | None = None) -> str:
    lines = f"cert_file = {issued.cert}\nkey_file = {issued.key}\n"
    if ca_file is not None:
        lines += f"ca_file = {ca_file}\n"
    return (f"[drivers:transport:wsgi]\n{lines}workers = 1\n"
            f"[drivers:transport:websocket]\n{lines}workers = 1\n")


def _wait_for_port(port: int, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"zaqar-server exited:\n{log.read_text()}", pytrace=False)
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    pytest.fail(f"nothing listens on {port}:\n{log.read_text()}", pytrace=False)


@contextmanager
def tls_server(directory: Path, issued: Issued, ca_file: Path | None = None
               ) -> Iterator[TlsServer]:
    port, ws_port = _free_ports(2)
    command = _server_command(_write_config(directory, port, ws_port))
    (directory / "tls.conf").write_text(_tls_override(issued, ca_file))
    command += ["--config-file", str(directory / "tls.conf")]
    log = directory / "server.log"
    with open(log, "wb") as output:
        process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT)
    try:
        _wait_for_port(port, process, log)
        _wait_for_port(ws_port, process, log)
        time.sleep(0.5)  # the worker boots after the master listens
        yield TlsServer(f"https://127.0.0.1:{port}", f"wss://127.0.0.1:{ws_port}/", process)
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(15) == 0, log.read_text()


@pytest.fixture(scope="module")
def server(pki: Pki, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TlsServer]:
    with tls_server(tmp_path_factory.mktemp("tls"), pki.server) as running:
        _https_ready(running.url, pki.ca)
        yield running


def _https_ready(url: str, ca: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while True:
        try:
            requests.get(url + "/", verify=str(ca), timeout=2)
            return
        except requests.ConnectionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def _ws_request(connection: websocket.WebSocket, action: str, body: dict) -> dict:
    connection.send(json.dumps({"action": action, "body": body, "headers": {
        "Client-ID": str(uuid.uuid4()), "X-Project-ID": "tls"}}))
    return json.loads(connection.recv())


def test_zaqarclient_works_over_https(server: TlsServer, pki: Pki,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(pki.ca))
    client = zaqar_client.Client(server.url, version=2, conf={
        "auth_opts": {"backend": "noauth", "options": {"os_project_id": "tls"}}})
    queue = client.queue(f"tls-{uuid.uuid4().hex[:8]}")
    queue.post([{"body": {"secure": True}, "ttl": 300}])
    claimed = list(queue.claim(ttl=60, grace=60))
    assert [message.body for message in claimed] == [{"secure": True}]
    claimed[0].delete()


def test_rest_is_https_only(server: TlsServer) -> None:
    with pytest.raises(requests.ConnectionError):
        requests.get(server.url.replace("https", "http") + "/v2/ping", timeout=5,
                     headers={"Client-ID": str(uuid.uuid4()), "X-Project-ID": "tls"})


def test_websocket_works_over_wss_with_verification(server: TlsServer, pki: Pki) -> None:
    connection = websocket.create_connection(
        server.ws_url, timeout=10,
        sslopt={"ca_certs": str(pki.ca), "cert_reqs": ssl.CERT_REQUIRED})
    try:
        reply = _ws_request(connection, "queue_create", {"queue_name": "wss"})
        assert reply["headers"]["status"] in (201, 204)
    finally:
        connection.close()


def test_a_client_that_does_not_trust_the_ca_refuses_the_server(server: TlsServer) -> None:
    with pytest.raises(requests.exceptions.SSLError):
        requests.get(server.url + "/", timeout=5)  # the system's CAs only
    with pytest.raises(ssl.SSLCertVerificationError):
        websocket.create_connection(server.ws_url, timeout=10,
                                    sslopt={"cert_reqs": ssl.CERT_REQUIRED})


def test_tls_handshakes_that_never_come_stall_no_one(server: TlsServer, pki: Pki) -> None:
    host, port = server.url.removeprefix("https://").split(":")
    silent = [socket.create_connection((host, int(port)), timeout=5) for _ in range(50)]
    try:
        begun = time.monotonic()
        assert requests.get(server.url + "/", verify=str(pki.ca),
                            timeout=5).status_code in (200, 300)
        served = time.monotonic() - begun
        print(f"\nhttps request with 50 silent TLS connections open: {served * 1000:.1f} ms")
        assert served < 0.5
    finally:
        for sock in silent:
            sock.close()


@pytest.mark.parametrize("which", ["expired", "self_signed"])
def test_an_expired_or_self_signed_certificate_is_refused(pki: Pki, tmp_path: Path,
                                                          which: str) -> None:
    with tls_server(tmp_path, getattr(pki, which)) as running:
        time.sleep(0.5)
        with pytest.raises(requests.exceptions.SSLError) as refused:
            requests.get(running.url + "/", verify=str(pki.ca), timeout=5)
        assert "certificate" in str(refused.value)
        with pytest.raises(ssl.SSLCertVerificationError):
            websocket.create_connection(running.ws_url, timeout=10,
                                        sslopt={"ca_certs": str(pki.ca)})


def test_with_ca_file_clients_need_a_certificate(pki: Pki, tmp_path: Path) -> None:
    with tls_server(tmp_path, pki.server, ca_file=pki.ca) as running:
        time.sleep(0.5)
        answered = requests.get(running.url + "/", verify=str(pki.ca), timeout=5,
                                cert=(str(pki.client.cert), str(pki.client.key)))
        assert answered.status_code in (200, 300)
        with pytest.raises((requests.exceptions.SSLError, requests.ConnectionError)):
            requests.get(running.url + "/", verify=str(pki.ca), timeout=5)
        connection = websocket.create_connection(
            running.ws_url, timeout=10,
            sslopt={"ca_certs": str(pki.ca), "certfile": str(pki.client.cert),
                    "keyfile": str(pki.client.key)})
        connection.close()
        with pytest.raises((ssl.SSLError, ConnectionError, websocket.WebSocketException)):
            websocket.create_connection(running.ws_url, timeout=10,
                                        sslopt={"ca_certs": str(pki.ca)})


def test_half_a_tls_setting_stops_the_server_with_a_clear_message(pki: Pki,
                                                                  tmp_path: Path) -> None:
    port, ws_port = _free_ports(2)
    command = _server_command(_write_config(tmp_path, port, ws_port))
    (tmp_path / "tls.conf").write_text(f"[drivers:transport:wsgi]\ncert_file = {pki.ca}\n")
    run = subprocess.run(command + ["--config-file", str(tmp_path / "tls.conf")],
                         capture_output=True, text=True, timeout=60)
    assert run.returncode != 0
    assert "cert_file and key_file go together" in run.stderr


def _served_certificate(url: str) -> x509.Certificate:
    host, port = url.removeprefix("https://").removeprefix("wss://").rstrip("/").split(":")
    pem = ssl.get_server_certificate((host, int(port)))
    return x509.load_pem_x509_certificate(pem.encode())


def test_sighup_makes_the_rest_workers_read_new_certificate_files(pki: Pki,
                                                                 tmp_path: Path) -> None:
    live = Issued(tmp_path / "live.crt", tmp_path / "live.key")
    live.cert.write_bytes(pki.server.cert.read_bytes())
    live.key.write_bytes(pki.server.key.read_bytes())
    (tmp_path / "server").mkdir()
    with tls_server(tmp_path / "server", live) as running:
        _https_ready(running.url, pki.ca)
        assert _served_certificate(running.url).subject.rfc4514_string() == "CN=server"
        live.cert.write_bytes(pki.client.cert.read_bytes())  # another name, same CA
        live.key.write_bytes(pki.client.key.read_bytes())
        running.process.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 20
        while _served_certificate(running.url).subject.rfc4514_string() != "CN=client":
            assert time.monotonic() < deadline, "the old certificate is still served"
            time.sleep(0.2)


def test_gunicorn_gthread_workers_serve_https_with_the_same_context(pki: Pki,
                                                                   tmp_path: Path) -> None:
    (tmp_path / "extra.conf").write_text("[drivers:transport:wsgi]\nthreads = 2\n")
    port, ws_port = _free_ports(2)
    command = _server_command(_write_config(tmp_path, port, ws_port))
    (tmp_path / "tls.conf").write_text(_tls_override(pki.server))
    command += ["--config-file", str(tmp_path / "tls.conf"),
                "--config-file", str(tmp_path / "extra.conf")]
    log = tmp_path / "server.log"
    with open(log, "wb") as output:
        process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT)
    try:
        _wait_for_port(port, process, log)
        url = f"https://127.0.0.1:{port}"
        _https_ready(url, pki.ca)
        answer = requests.get(url + "/v2/queues", verify=str(pki.ca), timeout=5,
                              headers={"Client-ID": str(uuid.uuid4()),
                                       "X-Project-ID": "tls"})
        assert answer.status_code in (200, 204)
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(15) == 0, log.read_text()
