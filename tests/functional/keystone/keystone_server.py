"""A real Keystone for the tests: the ``keystone`` package from PyPI, installed in the
running virtualenv (``tox -e keystone``), on SQLite with fernet tokens, served by
gunicorn on a free loopback port.

:func:`start_keystone` runs ``keystone-manage db_sync``, ``fernet_setup``,
``credential_setup`` and ``bootstrap``, then two gunicorn servers over the same database
and keys: the main one, and one issuing tokens that expire within seconds (Keystone's
token lifetime is one setting for a whole server), so tests can watch a token expire.
:class:`Identity` then creates projects, users and role assignments through the v3 API.
"""
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import requests

STARTUP_TIMEOUT = 90.0
ADMIN_PASSWORD = "keystone-admin-secret"
SHORT_TOKEN_LIFETIME = 8  # seconds


class KeystoneUnavailable(Exception):
    """Keystone is not installed, or could not be set up or started (the message says
    which, with its output)."""


def _bin(name: str) -> str:
    return os.path.join(os.path.dirname(sys.executable), name)


def keystone_installed() -> bool:
    try:
        import keystone  # noqa: F401
    except ImportError:
        return False
    return os.path.exists(_bin("keystone-manage")) and os.path.exists(_bin("gunicorn"))


@dataclass(frozen=True)
class KeystoneServer:
    url: str  # the v3 API, http://127.0.0.1:<port>/v3
    short_lived_url: str  # the same Keystone, issuing tokens of SHORT_TOKEN_LIFETIME s
    directory: Path

    def log(self) -> str:
        return "\n".join(path.read_text(errors="replace")[-20000:]
                         for path in sorted(self.directory.glob("*.log")))


def _write_config(directory: Path, name: str, token_lifetime: int) -> Path:
    config = directory / f"{name}.conf"
    config.write_text(
        "[DEFAULT]\n"
        f"log_file = {directory / (name + '-keystone.log')}\n"
        "\n[database]\n"
        f"connection = sqlite:///{directory / 'keystone.db'}\n"
        "\n[token]\n"
        "provider = fernet\n"
        f"expiration = {token_lifetime}\n"
        "\n[fernet_tokens]\n"
        f"key_repository = {directory / 'fernet-keys'}\n"
        "\n[fernet_receipts]\n"
        f"key_repository = {directory / 'fernet-keys'}\n"
        # The fewest bcrypt rounds: issuing a token hashes a password; tests issue many.
        "\n[identity]\n"
        "password_hash_rounds = 4\n"
        "\n[credential]\n"
        f"key_repository = {directory / 'credential-keys'}\n")
    return config


def _manage(config: Path, *args: str) -> None:
    command = [_bin("keystone-manage"), "--config-file", str(config), *args]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300)
    if done.returncode != 0:
        raise KeystoneUnavailable(f"{' '.join(command)} exited with {done.returncode}:\n"
                                  f"{done.stdout}\n{done.stderr}")


def _bootstrap(directory: Path, config: Path, url: str) -> None:
    for repository in ("fernet-keys", "credential-keys"):
        (directory / repository).mkdir()
    user, group = str(os.getuid()), str(os.getgid())
    _manage(config, "db_sync")
    _manage(config, "fernet_setup", "--keystone-user", user, "--keystone-group", group)
    _manage(config, "credential_setup", "--keystone-user", user, "--keystone-group", group)
    _manage(config, "bootstrap", "--bootstrap-password", ADMIN_PASSWORD,
            "--bootstrap-admin-url", url, "--bootstrap-internal-url", url,
            "--bootstrap-public-url", url, "--bootstrap-region-id", "RegionOne")


@contextmanager
def _serve(directory: Path, name: str, config: Path, port: int) -> Iterator[str]:
    """gunicorn serving Keystone's WSGI app. Keystone parses the process's argv with
    oslo.config, so gunicorn takes its settings from a gunicorn.conf.py in its working
    directory rather than from command-line options."""
    workdir = directory / name
    workdir.mkdir()
    (workdir / "gunicorn.conf.py").write_text(
        'wsgi_app = "keystone.wsgi.api:application"\n'
        f'bind = "127.0.0.1:{port}"\n'
        "workers = 2\n"
        "timeout = 120\n"
        "control_socket_disable = True\n"
        f'raw_env = ["OS_KEYSTONE_CONFIG_FILES={config}"]\n')
    log_path = directory / f"{name}-gunicorn.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen([_bin("gunicorn")], cwd=workdir, stdout=log,
                                   stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/v3"
    try:
        _wait_until_serving(process, url, log_path)
        yield url
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_until_serving(process: subprocess.Popen, url: str, log_path: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise KeystoneUnavailable(f"Keystone's gunicorn exited with {process.returncode}:"
                                      f"\n{log_path.read_text(errors='replace')[-5000:]}")
        try:
            if requests.get(url, timeout=5).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise KeystoneUnavailable(f"Keystone did not answer on {url} within {STARTUP_TIMEOUT} s:"
                              f"\n{log_path.read_text(errors='replace')[-5000:]}")


@contextmanager
def start_keystone(directory: Path, port: int, short_lived_port: int) -> Iterator[KeystoneServer]:
    """Set up and serve Keystone until exit. Raises KeystoneUnavailable."""
    url = f"http://127.0.0.1:{port}/v3"
    main_config = _write_config(directory, "main", 3600)
    short_config = _write_config(directory, "short", SHORT_TOKEN_LIFETIME)
    _bootstrap(directory, main_config, url)
    with ExitStack() as stack:
        served = stack.enter_context(_serve(directory, "main", main_config, port))
        short = stack.enter_context(_serve(directory, "short", short_config, short_lived_port))
        yield KeystoneServer(served, short, directory)


class Identity:
    """Projects, users, roles and tokens, through Keystone's v3 API as its admin."""

    def __init__(self, keystone: KeystoneServer) -> None:
        self.keystone = keystone
        self.session = requests.Session()
        self.session.headers["X-Auth-Token"] = self.token("admin", ADMIN_PASSWORD, "admin")
        self._roles = {role["name"]: role["id"]
                       for role in self._get("/roles")["roles"]}

    def _get(self, path: str) -> dict:
        response = self.session.get(self.keystone.url + path, timeout=30)
        response.raise_for_status()
        return response.json()

    def _post(self, path: str, document: dict) -> dict:
        response = self.session.post(self.keystone.url + path, json=document, timeout=30)
        response.raise_for_status()
        return response.json()

    def project(self, name: str) -> str:
        return self._post("/projects", {"project": {"name": name, "domain_id": "default"}})[
            "project"]["id"]

    def user(self, name: str, password: str, project_id: str, *roles: str) -> str:
        # No default project: a token asked for without a scope stays unscoped.
        user_id = self._post("/users", {"user": {
            "name": name, "password": password, "domain_id": "default"}})["user"]["id"]
        for role in roles:
            self.session.put(f"{self.keystone.url}/projects/{project_id}/users/{user_id}/"
                             f"roles/{self._roles[role]}", timeout=30).raise_for_status()
        return user_id

    def token(self, user: str, password: str, project: str | None,
              short_lived: bool = False) -> str:
        """A fernet token scoped to ``project`` (by name; None: unscoped)."""
        auth: dict = {"identity": {"methods": ["password"], "password": {"user": {
            "name": user, "domain": {"id": "default"}, "password": password}}}}
        if project is not None:
            auth["scope"] = {"project": {"name": project, "domain": {"id": "default"}}}
        url = self.keystone.short_lived_url if short_lived else self.keystone.url
        response = requests.post(url + "/auth/tokens", json={"auth": auth}, timeout=30)
        response.raise_for_status()
        return response.headers["X-Subject-Token"]

    def revoke(self, token: str) -> None:
        self.session.delete(self.keystone.url + "/auth/tokens",
                            headers={"X-Subject-Token": token}, timeout=30).raise_for_status()
