"""TLS for both transports: ``cert_file``, ``key_file`` and ``ca_file`` of
``[drivers:transport:wsgi]`` (https) and ``[drivers:transport:websocket]`` (wss).

TLS 1.2 is the floor on both. With ``ca_file`` set, clients must present a certificate
that one of its CAs signed (mutual TLS); without it no client certificate is asked for.
``cert_file`` may hold intermediate certificates after the server's own.
"""
import ssl
from typing import Any

from oslo_config import cfg

WSGI = "drivers:transport:wsgi"
WEBSOCKET = "drivers:transport:websocket"
_END = b"-----END CERTIFICATE-----"


class TlsConfigError(ValueError):
    """The TLS options of a group are incomplete or their files unusable."""


def enabled(conf: cfg.ConfigOpts, group_name: str) -> bool:
    """Whether the group asks for TLS. Raises TlsConfigError for half a setting."""
    group = conf[group_name]
    if bool(group.cert_file) != bool(group.key_file):
        raise TlsConfigError(f"[{group_name}] cert_file and key_file go together: set both "
                             "for TLS, or neither.")
    if group.ca_file and not group.cert_file:
        raise TlsConfigError(f"[{group_name}] ca_file (client certificates) needs cert_file "
                             "and key_file.")
    return bool(group.cert_file)


def server_context(conf: cfg.ConfigOpts, group_name: str) -> ssl.SSLContext:
    """A server context from the group's files, read now (a restarted worker reads them
    again). Raises TlsConfigError naming the files that could not be used."""
    group = conf[group_name]
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.options |= ssl.OP_NO_COMPRESSION
    try:
        context.load_cert_chain(group.cert_file, group.key_file)
        if group.ca_file:
            context.load_verify_locations(cafile=group.ca_file)
            context.verify_mode = ssl.CERT_REQUIRED
    except (OSError, ssl.SSLError) as error:
        raise TlsConfigError(f"[{group_name}] cannot use the TLS files {_files(group)}: "
                             f"{error}") from None
    context.set_alpn_protocols(["http/1.1"])
    return context


def twisted_options(conf: cfg.ConfigOpts, group_name: str) -> Any:
    """The same for Twisted (the websocket server): a pyOpenSSL context factory. Raises
    TlsConfigError."""
    from twisted.internet import ssl as twisted_ssl

    server_context(conf, group_name)  # the same checks, and the same messages
    group = conf[group_name]
    try:
        with open(group.cert_file, "rb") as cert, open(group.key_file, "rb") as key:
            blocks, key_pem = _pem_blocks(cert.read()), key.read()
        authorities: list[Any] = []
        if group.ca_file:
            with open(group.ca_file, "rb") as ca:
                authorities = [twisted_ssl.Certificate.loadPEM(pem).original
                               for pem in _pem_blocks(ca.read())]
        own = twisted_ssl.PrivateCertificate.loadPEM(blocks[0] + b"\n" + key_pem)
        chain = [twisted_ssl.Certificate.loadPEM(pem).original for pem in blocks[1:]]
    except (OSError, ValueError, IndexError) as error:
        raise TlsConfigError(f"[{group_name}] cannot use the TLS files {_files(group)}: "
                             f"{error}") from None
    return twisted_ssl.CertificateOptions(
        privateKey=own.privateKey.original, certificate=own.original, extraCertChain=chain,
        raiseMinimumTo=twisted_ssl.TLSVersion.TLSv1_2, verify=bool(authorities),
        caCerts=authorities or None, requireCertificate=bool(authorities))


def check(conf: cfg.ConfigOpts) -> None:
    """Raises TlsConfigError for unusable TLS options of either transport."""
    for group_name in (WSGI, WEBSOCKET):
        if enabled(conf, group_name):
            server_context(conf, group_name)


def _files(group: Any) -> str:
    return ", ".join(path for path in (group.cert_file, group.key_file, group.ca_file)
                     if path)


def _pem_blocks(data: bytes) -> list[bytes]:
    return [block.strip() + b"\n" + _END for block in data.split(_END)
            if b"-----BEGIN CERTIFICATE-----" in block]
