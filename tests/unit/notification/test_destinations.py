"""[notification] allowed_destinations: decided on the URL alone, before any lookup."""
import pytest

from zaqar.notification.destinations import DestinationPolicy

POLICY = DestinationPolicy(["127.0.0.0/8", "::1", "hooks.example.com", "*.corp.example"])


@pytest.mark.parametrize("url", [
    "http://127.0.0.1:8080/x", "http://127.9.9.9/", "https://[::1]:8443/",
    "http://hooks.example.com/a", "http://HOOKS.example.com./a", "https://a.corp.example/",
    "https://b.a.corp.example/"])
def test_listed_destinations_pass(url):
    assert POLICY.refusal(url) is None


@pytest.mark.parametrize(("url", "reason"), [
    ("http://trigger.me/", "The host 'trigger.me' is not in"),
    ("http://localhost/", "The host 'localhost' is not in"),
    ("http://corp.example/", "The host 'corp.example' is not in"),
    ("http://evilcorp.example/", "The host 'evilcorp.example' is not in"),
    ("http://2130706433/", "The host '2130706433' is not in"),  # 127.0.0.1 in disguise
    ("http://10.0.0.1/", "The address 10.0.0.1 is not in"),
    ("http://[::ffff:127.0.0.1]/", "The address ::ffff:127.0.0.1 is not in"),
    ("http:///x", "names no host"),
])
def test_anything_else_is_refused_naming_why(url, reason):
    assert reason in POLICY.refusal(url)


def test_empty_list_allows_nothing_and_star_anything():
    assert DestinationPolicy([]).refusal("http://127.0.0.1/") is not None
    assert DestinationPolicy(["*"]).refusal("http://anything.example/") is None


@pytest.mark.parametrize("entry", ["http://x.example", "a b", "*.", "10.0.0.0/33"])
def test_malformed_entries_are_refused(entry):
    with pytest.raises(ValueError, match="allowed_destinations"):
        DestinationPolicy([entry])
