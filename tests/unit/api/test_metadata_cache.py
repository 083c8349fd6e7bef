"""The per-process queue metadata cache used by message posts."""
from zaqar.api import metadata_cache
from zaqar.api.metadata_cache import QueueMetadataCache


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class Loader:
    def __init__(self) -> None:
        self.calls = 0
        self.value = {"_default_message_ttl": 120}

    def __call__(self) -> dict:
        self.calls += 1
        return dict(self.value)


def test_a_cached_entry_is_served_until_its_ttl_passes():
    clock, load = Clock(), Loader()
    cache = QueueMetadataCache(1.0, clock)
    assert cache.get("p", "q", load) == {"_default_message_ttl": 120}
    load.value = {"_default_message_ttl": 300}
    clock.now += 0.9
    assert cache.get("p", "q", load) == {"_default_message_ttl": 120}
    clock.now += 0.2
    assert cache.get("p", "q", load) == {"_default_message_ttl": 300}
    assert load.calls == 2


def test_forget_makes_the_next_read_load_again():
    load = Loader()
    cache = QueueMetadataCache(60.0, Clock())
    cache.get("p", "q", load)
    cache.forget("p", "q")
    cache.get("p", "q", load)
    assert load.calls == 2


def test_projects_and_queues_are_cached_apart():
    load = Loader()
    cache = QueueMetadataCache(60.0, Clock())
    for project, queue in [("p", "q"), ("p2", "q"), ("p", "q2"), ("p", "q")]:
        cache.get(project, queue, load)
    assert load.calls == 3


def test_a_zero_ttl_reads_storage_every_time():
    load = Loader()
    cache = QueueMetadataCache(0, Clock())
    cache.get("p", "q", load)
    cache.get("p", "q", load)
    assert load.calls == 2


def test_the_cache_keeps_at_most_max_entries(monkeypatch):
    monkeypatch.setattr(metadata_cache, "MAX_ENTRIES", 3)
    load = Loader()
    cache = QueueMetadataCache(60.0, Clock())
    for n in range(5):
        cache.get("p", f"q{n}", load)
    cache.get("p", "q4", load)  # still cached
    assert load.calls == 5
    cache.get("p", "q0", load)  # evicted, loaded again
    assert load.calls == 6
