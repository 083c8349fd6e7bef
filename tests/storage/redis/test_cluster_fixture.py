"""The test cluster (tests/storage/redis/cluster.py): one that cannot start skips its
tests on a developer machine and fails them under CI, never a pass."""
import pytest

from tests import engines
from tests.storage.redis import cluster


@pytest.fixture
def broken_cluster(monkeypatch):
    """No cluster running and none that can start; an engine whose URI variable is unset."""
    monkeypatch.setattr(cluster, "_running", None)
    monkeypatch.setattr(cluster, "REDIS_SERVER", "/nonexistent/redis-server")
    engine = engines.RedisClusterEngine("redis-cluster", "ZAQAR_TEST_BROKEN_CLUSTER_URI", None)
    monkeypatch.delenv(engine.uri_env, raising=False)
    return engine


def test_a_cluster_that_cannot_start_fails_under_ci(broken_cluster, monkeypatch):
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI is set"):
        broken_cluster.check_reachable()


def test_a_cluster_that_cannot_start_skips_without_ci(broken_cluster, monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="redis-server is not installed"):
        broken_cluster.check_reachable()
