"""The key of pre-signed URLs: ``[signed_url] secret_key``, or one generated once.

With no key configured, the first process that needs one generates a random key and
keeps it in ``[DEFAULT] data_dir`` (:data:`KEY_FILE`, mode 0600), so URLs signed before a
restart still verify after it. The file appears atomically and is never replaced:
processes starting together all end up with the key of the first that wrote it. Other
nodes of a deployment cannot see the file: they need the same ``secret_key`` configured.
"""
import contextlib
import os
import secrets
import tempfile
from pathlib import Path

from oslo_config import cfg

KEY_FILE = "signed_url_secret_key"


class SecretKeyError(Exception):
    """The generated key cannot be read or written; the message says what to do."""


def key_path(conf: cfg.ConfigOpts) -> Path:
    """Where the generated key is kept."""
    return Path(os.path.expanduser(conf.data_dir)) / KEY_FILE


def load_or_create(conf: cfg.ConfigOpts) -> str:
    """The configured key; else the generated one, generated now if there is none yet.

    Raises SecretKeyError when the key file cannot be written or holds no key.
    """
    configured: str | None = conf.signed_url.secret_key
    if configured:
        return configured
    return generated(key_path(conf), "pre-signed URL key", "[signed_url] secret_key",
                     "URLs signed so far stop working")


def generated(path: Path, what: str, option: str, loss: str) -> str:
    """The random key kept in ``path``, generated now if there is none yet (atomically,
    mode 0600, never replaced: see the module's docstring). Other generated keys (the
    message encryption key, zaqar.api.encryption) are kept the same way.

    Raises SecretKeyError naming ``what`` the key is for, the ``option`` that configures
    it instead, and the ``loss`` that deleting a broken key file means.
    """
    try:
        if not path.exists():
            _create(path)
        key = path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError) as error:
        raise SecretKeyError(f"Cannot keep the generated {what} in {path} ({error}); set "
                             f"{option} or make [DEFAULT] data_dir writable.") from None
    if not key:
        raise SecretKeyError(f"{path} holds no key; delete it ({loss}) or set {option}.")
    return key


def _create(path: Path) -> None:
    """Write a new key to ``path`` unless another process did first.

    The key is written and synced under a temporary name, then linked to ``path``: a
    hard link never replaces an existing file, so exactly one writer wins, and no
    reader ever sees a half-written key.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(descriptor, "w", encoding="ascii") as file:  # mkstemp: mode 0600
            file.write(secrets.token_hex(32) + "\n")
            file.flush()
            os.fsync(file.fileno())
        with contextlib.suppress(FileExistsError):  # another process won: its key
            os.link(temporary, path)
    finally:
        os.unlink(temporary)
