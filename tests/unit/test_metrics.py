"""zaqar.metrics: messages counted from the responses of the actions."""
from zaqar import metrics
from zaqar.api import Request, Response


def _value(counter) -> float:
    return counter._value.get()


def test_posted_claimed_and_deleted_messages_are_counted_from_responses() -> None:
    m = metrics.metrics()
    posted, claimed, deleted = (_value(m.messages_posted), _value(m.messages_claimed),
                                _value(m.messages_deleted))
    metrics.count_messages("message_post", Request("p"),
                           Response(201, {"message_ids": ["1", "2", "3"]}))
    metrics.count_messages("claim_create", Request("p"),
                           Response(201, {"messages": [{}, {}]}))
    metrics.count_messages("message_delete_many", Request("p", params={"message_ids": ["1"]}),
                           Response(204))
    metrics.count_messages("message_delete_many", Request("p", params={"pop": 2}),
                           Response(200, {"messages": [{}, {}]}))
    assert _value(m.messages_posted) - posted == 3
    assert _value(m.messages_claimed) - claimed == 2
    assert _value(m.messages_deleted) - deleted == 3
