"""The pre-signed URL key of zaqar/auth/secret_key.py: configured, or generated once into
data_dir and kept there."""
import multiprocessing
import stat
from typing import Any

import pytest

from tests.conftest import make_conf
from zaqar.auth import secret_key


def test_configured_key_is_used_and_nothing_is_written(tmp_path):
    conf = make_conf(tmp_path, signed_url={"secret_key": "configured"})
    assert secret_key.load_or_create(conf) == "configured"
    assert not secret_key.key_path(conf).exists()


def test_key_is_generated_once_with_mode_0600_and_reused(tmp_path):
    conf = make_conf(tmp_path / "data")  # data_dir does not exist yet
    key = secret_key.load_or_create(conf)
    path = secret_key.key_path(conf)
    assert len(key) == 64 and int(key, 16) >= 0
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert secret_key.load_or_create(make_conf(tmp_path / "data")) == key
    assert [entry.name for entry in path.parent.iterdir()] == [secret_key.KEY_FILE]


def _load(data_dir: str, start: Any, keys: Any) -> None:
    conf = make_conf(data_dir)
    start.wait()
    keys.put(secret_key.load_or_create(conf))


def test_processes_starting_together_agree_on_one_key(tmp_path):
    context = multiprocessing.get_context("fork")
    start, keys = context.Event(), context.Queue()
    processes = [context.Process(target=_load, args=(str(tmp_path), start, keys))
                 for _ in range(8)]
    for process in processes:
        process.start()
    start.set()
    found = {keys.get(timeout=30) for _ in processes}
    for process in processes:
        process.join(timeout=30)
        assert process.exitcode == 0
    assert found == {secret_key.key_path(make_conf(tmp_path)).read_text().strip()}
    assert [entry.name for entry in tmp_path.iterdir()] == [secret_key.KEY_FILE]


def test_unwritable_data_dir_is_a_clear_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(secret_key.SecretKeyError, match="set \\[signed_url\\] secret_key"):
        secret_key.load_or_create(make_conf(blocker))


def test_empty_key_file_is_a_clear_error(tmp_path):
    conf = make_conf(tmp_path)
    secret_key.key_path(conf).write_text("")
    with pytest.raises(secret_key.SecretKeyError, match="holds no key"):
        secret_key.load_or_create(conf)
