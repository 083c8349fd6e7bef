"""Topics are stored as queues of a project's topic namespace (storage.base.topic_project):
every engine keeps such projects, up to the longest client project id behind the prefix,
apart from the client's own."""
from tests.storage.test_contract import CLIENT
from zaqar.storage.base import MAX_PROJECT, NewMessage, owner_project, topic_project

LONGEST = "p" * MAX_PROJECT


def test_a_topic_namespace_holds_messages_and_subscriptions_apart(driver):
    for project in ("p", LONGEST):
        topics = topic_project(project)
        driver.queues.create("news", topics)
        driver.messages.post("news", topics, [NewMessage(body="topic", ttl=300)], CLIENT)
        driver.messages.post("news", project, [NewMessage(body="queue", ttl=300)], CLIENT)
        subscription = driver.subscriptions.create("news", topics, "http://a.example", 600,
                                                   {})

        assert [m.body for m in driver.messages.list("news", topics, CLIENT, echo=True)] == [
            "topic"]
        assert [m.body for m in driver.messages.list("news", project, CLIENT, echo=True)] == [
            "queue"]
        assert [q.name for q in driver.queues.list(topics)] == ["news"]
        assert driver.subscriptions.list("news", project) == []
        [found] = [s for s in driver.subscriptions.list_all() if s.id == subscription]
        assert found.project == topics
        assert owner_project(found.project) == (project, True)
    assert owner_project("p") == ("p", False)
