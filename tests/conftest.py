"""Fixtures shared by every test package: configurations and real storage drivers."""
import contextlib
from collections.abc import Iterator

import pytest

from tests import engines
from zaqar import conf as zaqar_conf
from zaqar.storage import load_driver
from zaqar.storage.base import DataDriver


def make_conf(tmp_path, uri: str | None = None, **groups: dict) -> object:
    overrides: dict[str, dict] = {"DEFAULT": {"data_dir": str(tmp_path)}}
    if uri:
        overrides["drivers:message_store:sqlalchemy"] = {"uri": uri}
    for group, values in groups.items():
        overrides.setdefault(group, {}).update(values)
    return zaqar_conf.new_conf(default_config_files=[], overrides=overrides)


@pytest.fixture(scope="session", autouse=True)
def scratch_databases() -> Iterator[None]:
    """Every test session works in private schemas, databases and key prefixes
    (tests/engines.py)."""
    with contextlib.ExitStack() as stack:
        for engine in engines.ENGINES:
            stack.enter_context(engine.scratch_namespace())
        yield


@pytest.fixture(scope="session", params=[e.name for e in engines.ENGINES])
def engine(request) -> engines.Engine:
    """Each real engine in turn (tests/engines.py)."""
    return engines.by_name(request.param)


@pytest.fixture(scope="session")
def session_driver(engine: engines.Engine, tmp_path_factory) -> Iterator[DataDriver]:
    """One prepared driver per engine for the whole session, loaded by its entry point."""
    engine.check_reachable()
    engine.start_empty()
    driver = load_driver(make_conf(tmp_path_factory.mktemp(engine.name), **engine.conf_groups()))
    driver.prepare()
    yield driver
    driver.close()


@pytest.fixture
def driver(engine: engines.Engine, session_driver: DataDriver) -> Iterator[DataDriver]:
    """The session's driver with an empty store, so tests do not see each other."""
    engine.reset(session_driver)
    yield session_driver


@pytest.fixture
def another_driver(driver: DataDriver) -> Iterator[DataDriver]:
    """A second driver of ``driver``'s store, with connections of its own (as another
    process of the service would have)."""
    other = load_driver(driver.conf)
    yield other
    other.close()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "announcing: needs an engine that announces posts")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests marked ``announcing`` concern engines that announce posts: on the others they
    do not apply, so they are deselected (never reported as skipped passes)."""
    silent = {e.name for e in engines.ENGINES if not e.announces_posts}
    kept, dropped = [], []
    for item in items:
        callspec = getattr(item, "callspec", None)
        applies = not (item.get_closest_marker("announcing") and callspec is not None
                       and callspec.params.get("engine") in silent)
        (kept if applies else dropped).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept
