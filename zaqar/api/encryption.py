"""Encryption at rest of message bodies: queues whose metadata sets upstream's
``_enable_encrypt_messages``.

A body is sealed once, here, before any driver sees it: AES-256-GCM (``cryptography``)
over its JSON text, a random 96-bit nonce per message, the project as associated data
(so a body copied into another project's rows does not open). Storage keeps it as a
:class:`~zaqar.storage.base.SealedBody`, text that no JSON body can be::

    ~A1:<key id>:<base64 of nonce, ciphertext and tag>

The key id (8 hex digits of a hash of the key) names the key that sealed it, so old
keys still open their bodies after a rotation. Reads open every sealed body they meet,
whatever the queue says now: turning encryption off, or a dead-letter move to a plain
queue, never strands a body. A body that fails authentication (altered in storage,
sealed with a key this server lacks) is never returned as it is: it comes back as
:class:`Unreadable`, which the renderers show as an error for that message alone.

Keys: ``[transport] message_encryption_key`` (its SHA-256 is the AES key, as upstream
derives it), or, when unset, a random one generated into ``[DEFAULT] data_dir`` the way
the pre-signed URL key is (zaqar.auth.secret_key), and logged. Rotation: set the new key,
move the old one into ``message_encryption_old_keys``; bodies sealed with it are read
until they expire, then it may go.
"""
import base64
import binascii
import dataclasses
import hashlib
import json
import logging
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from oslo_config import cfg

from zaqar.api.errors import ApiError
from zaqar.auth import secret_key
from zaqar.storage.base import SEALED_PREFIX, Message, NewMessage, SealedBody

LOG = logging.getLogger(__name__)
FORMAT = "A1"  # AES-256-GCM, 96-bit nonce, project as associated data
NONCE_BYTES = 12
KEY_FILE = "message_encryption_key"
KEY_OPTION = "[transport] message_encryption_key"


class KeyUnavailable(Exception):
    """No key can be had: none configured and none can be generated."""


@dataclass(frozen=True, slots=True)
class Unreadable:
    """A sealed body that does not open: what readers get in its place."""

    reason: str


class UnreadableMessage(ApiError):
    """The one message asked for has a body that does not open: the server cannot
    answer it (not the caller's fault, hence no 4xx), and says why."""

    status = 500
    title = "Message body unreadable"

    def __init__(self, message_id: str, body: Unreadable) -> None:
        super().__init__(f"The body of message {message_id!r} cannot be decrypted: "
                         f"{body.reason}.")


def key_path(conf: cfg.ConfigOpts) -> Path:
    return Path(os.path.expanduser(conf.data_dir)) / KEY_FILE


def _key_id(key: bytes) -> str:
    return hashlib.sha256(b"zaqar message key id\0" + key).hexdigest()[:8]


def _aes_key(secret: str) -> bytes:
    return hashlib.sha256(secret.encode()).digest()


class BodyCipher:
    """Seals and opens message bodies with the configured keys (loaded on first use)."""

    def __init__(self, conf: cfg.ConfigOpts) -> None:
        self._conf = conf
        self._lock = threading.Lock()
        self._current: tuple[str, AESGCM] | None = None
        self._readers: dict[str, AESGCM] = {}

    def require_key(self) -> None:
        """Make sure bodies can be sealed: the configured key, or one generated now.
        Raises KeyUnavailable saying what to configure."""
        self._keys()

    def seal(self, project: str, body: Any) -> SealedBody:
        key_id, cipher = self._keys()
        nonce = os.urandom(NONCE_BYTES)
        sealed = cipher.encrypt(nonce, json.dumps(body).encode(), project.encode())
        text = base64.b64encode(nonce + sealed).decode()
        return SealedBody(f"{SEALED_PREFIX}{FORMAT}:{key_id}:{text}")

    def open(self, project: str, body: Any) -> Any:
        """The body as posted, for a sealed one; any other body as it is; Unreadable
        when a sealed body does not open."""
        if not isinstance(body, SealedBody):
            return body
        try:
            form, key_id, text = body.text[len(SEALED_PREFIX):].split(":", 2)
            raw = base64.b64decode(text, validate=True)
        except (ValueError, binascii.Error):
            return Unreadable("its stored form is damaged")
        if form != FORMAT or len(raw) <= NONCE_BYTES:
            return Unreadable("its stored form is damaged")
        try:
            self._keys()
        except KeyUnavailable as error:
            return Unreadable(str(error))
        cipher = self._readers.get(key_id)
        if cipher is None:
            return Unreadable(f"it was encrypted with a key this server does not have "
                              f"(key id {key_id}); see {KEY_OPTION} and "
                              "message_encryption_old_keys")
        try:
            plain = cipher.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], project.encode())
        except InvalidTag:
            return Unreadable("it fails authentication: altered in storage, or sealed "
                              "in another project")
        return json.loads(plain)

    def seal_batch(self, project: str, batch: list[NewMessage]) -> list[NewMessage]:
        return [dataclasses.replace(message, body=self.seal(project, message.body))
                for message in batch]

    def open_messages(self, project: str, messages: list[Message]) -> list[Message]:
        """``messages`` with their bodies opened in place (see :meth:`open`)."""
        for message in messages:
            if isinstance(message.body, SealedBody):
                message.body = self.open(project, message.body)
        return messages

    def _keys(self) -> tuple[str, AESGCM]:
        with self._lock:
            if self._current is None:
                secret = self._conf.transport.message_encryption_key or self._generated()
                key = _aes_key(secret)
                self._current = (_key_id(key), AESGCM(key))
                olds = [_aes_key(old) for old in self._conf.transport.message_encryption_old_keys
                        if old]
                self._readers = {_key_id(old): AESGCM(old) for old in olds}
                self._readers[self._current[0]] = self._current[1]
            return self._current

    def _generated(self) -> str:
        path = key_path(self._conf)
        existed = path.exists()
        try:
            secret = secret_key.generated(path, "message encryption key", KEY_OPTION,
                                          "encrypted messages stored so far stop reading")
        except secret_key.SecretKeyError as error:
            raise KeyUnavailable(f"Message encryption needs a key: {error}") from None
        LOG.warning("Message encryption uses the key %s in %s: set %s (the same on every "
                    "node) to choose one.", "generated now" if not existed else "generated",
                    path, KEY_OPTION)
        return secret


# id(conf) -> (conf, its cipher); the conf is held so that its id is never reused.
_CIPHERS: dict[int, tuple[cfg.ConfigOpts, BodyCipher]] = {}
_CIPHERS_LOCK = threading.Lock()


def cipher_for(conf: cfg.ConfigOpts) -> BodyCipher:
    """The one cipher of a configuration (so a generated key is logged once)."""
    with _CIPHERS_LOCK:
        entry = _CIPHERS.get(id(conf))
        if entry is None:
            entry = _CIPHERS[id(conf)] = (conf, BodyCipher(conf))
        return entry[1]
