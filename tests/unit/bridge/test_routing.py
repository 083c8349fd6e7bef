"""Where the bridge sends a notification, and what it posts."""
import pytest

from zaqar.bridge.endpoint import event_type_filter
from zaqar.bridge.routing import (
    Notification,
    QueueNamer,
    RoutingError,
    message_body,
    project_of,
    service_of,
)


def notification(payload: object, context: dict | None = None,
                 publisher_id: str = "compute.host1") -> Notification:
    return Notification(context or {}, publisher_id, "compute.instance.update", "info",
                        payload, {"timestamp": "2026-01-01 00:00:00.000001",
                                  "message_id": "m-1"})


@pytest.mark.parametrize(("payload", "context", "project"), [
    ({"tenant_id": "t", "project_id": "p"}, {}, "t"),
    ({"project_id": "p"}, {"project_id": "c"}, "p"),
    ({"nova_object.data": {"project_id": "v"}}, {}, "v"),
    ({"instance_id": "i"}, {"project_id": "c"}, "c"),
    ({"instance_id": "i"}, {}, None),
    ("a string payload", {"tenant_id": "c"}, "c"),
    ({"tenant_id": ""}, {}, None),
])
def test_project_is_the_payloads_then_the_contexts(payload: object, context: dict,
                                                   project: str | None) -> None:
    assert project_of(notification(payload, context)) == project


@pytest.mark.parametrize(("publisher_id", "service"), [
    ("compute.host1", "compute"),
    ("nova-compute:host1", "nova-compute"),
    ("volume.host@lvm", "volume"),
    ("network", "network"),
    ("", "unknown"),
    ("odd service!.host", "odd-service-"),
])
def test_service_is_the_publisher_id_before_the_host(publisher_id: str, service: str) -> None:
    assert service_of(publisher_id) == service


def test_queue_name_template_fills_the_service_and_stays_a_valid_queue_name() -> None:
    assert QueueNamer("notifications-{service}")(notification({})) == "notifications-compute"
    assert QueueNamer("all")(notification({})) == "all"
    long_name = QueueNamer("x" * 70 + "{service}")(notification({}))
    assert len(long_name) == 64
    assert QueueNamer("n.{service}")(notification({})) == "n-compute"


@pytest.mark.parametrize("template", ["{project}", "{0}", "{service"])
def test_a_queue_name_template_with_another_placeholder_is_refused(template: str) -> None:
    with pytest.raises(RoutingError, match="queue_name"):
        QueueNamer(template)


def test_the_posted_body_carries_the_notification_whole() -> None:
    assert message_body(notification({"tenant_id": "t"})) == {
        "event_type": "compute.instance.update", "publisher_id": "compute.host1",
        "priority": "info", "timestamp": "2026-01-01 00:00:00.000001", "message_id": "m-1",
        "payload": {"tenant_id": "t"}}


def test_event_type_filters_match_at_the_start_any_of_them() -> None:
    assert event_type_filter([]) is None
    wanted = event_type_filter([r"compute\.instance\.", "volume"])
    assert wanted is not None
    assert wanted.match("compute.instance.update")
    assert wanted.match("volume.create.end")
    assert not wanted.match("compute.metrics.update")
    assert not wanted.match("x.volume")


def test_a_bad_event_type_expression_is_refused() -> None:
    with pytest.raises(RoutingError, match="event_types"):
        event_type_filter(["compute.("])
