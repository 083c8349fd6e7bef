"""Fixtures of the api layer's tests."""
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import make_conf
from zaqar.api import Api
from zaqar.storage.pooling import PooledDriver


@pytest.fixture
def pooled_api(tmp_path: Path) -> Iterator[Api]:
    """The api as bootstrap builds it with admin mode and pooling: over the pooled
    driver (a SQLite management store in the test's directory, no pool yet), given its
    management store."""
    conf = make_conf(tmp_path, DEFAULT={"admin_mode": True, "pooling": True})
    storage = PooledDriver(conf)
    storage.prepare()
    yield Api(storage, conf, storage.management)
    storage.close()
