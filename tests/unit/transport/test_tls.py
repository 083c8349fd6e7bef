"""zaqar.transport.tls: the TLS floor and the refusals of incomplete settings."""
import ssl
import subprocess

import pytest

from zaqar import conf
from zaqar.transport import tls


@pytest.fixture
def pair(tmp_path):
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-nodes", "-days", "1", "-subj", "/CN=t",
                    "-keyout", str(key), "-out", str(cert)], check=True,
                   capture_output=True)
    return cert, key


def _conf(**wsgi):
    return conf.new_conf([], default_config_files=[],
                         overrides={tls.WSGI: wsgi} if wsgi else None)


def test_the_server_context_refuses_anything_older_than_tls_1_2(pair) -> None:
    cert, key = pair
    context = tls.server_context(_conf(cert_file=str(cert), key_file=str(key)), tls.WSGI)
    assert context.minimum_version == ssl.TLSVersion.TLSv1_2
    assert context.verify_mode == ssl.CERT_NONE


def test_ca_file_requires_client_certificates(pair) -> None:
    cert, key = pair
    context = tls.server_context(_conf(cert_file=str(cert), key_file=str(key),
                                       ca_file=str(cert)), tls.WSGI)
    assert context.verify_mode == ssl.CERT_REQUIRED


@pytest.mark.parametrize("options", [{"cert_file": "/x"}, {"key_file": "/x"},
                                     {"ca_file": "/x"}])
def test_half_a_setting_is_refused(options) -> None:
    with pytest.raises(tls.TlsConfigError):
        tls.check(_conf(**options))


def test_an_unreadable_file_is_named(tmp_path) -> None:
    missing = str(tmp_path / "missing.pem")
    with pytest.raises(tls.TlsConfigError, match="missing.pem"):
        tls.check(_conf(cert_file=missing, key_file=missing))
