"""E-mail delivery end to end: mailto subscribers, through a real SMTP server on a
loopback port (aiosmtpd) and through smtp_command (upstream's default mode)."""
import json
import sys
from collections.abc import Iterator

import pytest

from tests.functional.conftest import Rest, running_server
from tests.functional.receivers import smtp_receiver, wait_until
from tests.functional.test_notifications import post, subscribe

CONFIRMATION_PAGE = "https://zaqar.example.com/confirm"


@pytest.fixture(scope="module")
def smtp():
    with smtp_receiver() as server:
        yield server


def mail_config(smtp, extra: str = "") -> str:
    return ("[notification]\nsmtp_mode = self_local\nsmtp_host = 127.0.0.1\n"
            f"smtp_port = {smtp.port}\nsmtp_security = none\npoll_interval = 0.2\n" + extra)


@pytest.fixture(scope="module")
def rest(smtp, tmp_path_factory) -> Iterator[Rest]:
    with running_server(tmp_path_factory.mktemp("mail"), mail_config(smtp)) as server:
        client = Rest(server.url)
        yield client
        client.close()


def test_one_mail_per_message_with_upstreams_subject_sender_and_body(rest, smtp):
    subscribe(rest, "mailed", "mailto:ops@example.com?subject=New%20order",
              **{"from": "zaqar@example.org", "subject": "overridden by the URI's"})
    post(rest, "mailed", {"order": 1}, {"order": 2})
    first, second = [mail for mail in smtp.wait_for(2)]
    for mail, order in ((first, 1), (second, 2)):
        assert (mail.sender, mail.recipients) == ("zaqar@example.org", ["ops@example.com"])
        assert mail.message["Subject"] == "New order"
        assert mail.message["From"] == "zaqar@example.org"
        assert mail.message["To"] == "ops@example.com"
        assert json.loads(mail.message.get_content()) == {
            "ttl": 300, "body": {"order": order}, "Message_Type": "Notification",
            "queue_name": "mailed"}


def test_subject_comes_from_the_options_without_one_in_the_uri(rest, smtp):
    before = len(smtp.mails)
    subscribe(rest, "mailed2", "mailto:dev@example.com", subject="From the options")
    post(rest, "mailed2", "hi")
    mail = smtp.wait_for(before + 1)[-1]
    assert (mail.recipients, mail.message["Subject"]) == (["dev@example.com"],
                                                          "From the options")


def test_confirmation_mail_links_to_the_confirmation_page(smtp, tmp_path):
    extra = (f"require_confirmation = true\nexternal_confirmation_url = {CONFIRMATION_PAGE}\n"
             "[signed_url]\nsecret_key = mail-test-key\n")
    before = len(smtp.mails)
    with running_server(tmp_path, mail_config(smtp, extra)) as server:
        rest = Rest(server.url)
        subscription_id = subscribe(rest, "careful", "mailto:new@example.com")
        mail = smtp.wait_for(before + 1)[-1]
    assert mail.recipients == ["new@example.com"]
    assert mail.message["Subject"] == "Zaqar Notification - Subscription Confirmation"
    assert mail.message["From"] == "Zaqar Notifications <no-reply@openstack.org>"
    text = mail.message.get_content()
    assert text.startswith("You have chosen to subscribe to the queue: careful. This queue "
                           f"belongs to project: {rest.project}.")
    link = text.split("link below: ")[1].strip()
    assert link.startswith(f"{CONFIRMATION_PAGE}?Signature=")
    assert (f"&Url=/v2/queues/careful/subscriptions/{subscription_id}/confirm&Queue=careful"
            in link)
    assert f"&Project={rest.project}&" in link


def test_third_part_mode_pipes_each_mail_to_smtp_command(tmp_path):
    outbox = tmp_path / "outbox"
    outbox.mkdir()
    script = tmp_path / "sendmail.py"
    script.write_text("import sys, uuid, pathlib\n"
                      "pathlib.Path(sys.argv[1], uuid.uuid4().hex).write_bytes("
                      "sys.stdin.buffer.read())\n")
    config = (f"[notification]\nsmtp_command = {sys.executable} {script} {outbox}\n"
              "poll_interval = 0.2\n")
    (tmp_path / "server").mkdir()
    with running_server(tmp_path / "server", config) as server:
        rest = Rest(server.url)
        subscribe(rest, "piped", "mailto:pipe@example.com", subject="Piped")
        post(rest, "piped", "one", "two")
        sent = wait_until(lambda: len(list(outbox.iterdir())) >= 2, 15,
                          lambda: f"{len(list(outbox.iterdir()))} of 2 mails piped",
                          lambda: [path.read_text() for path in outbox.iterdir()])
    assert all("To: pipe@example.com" in mail and "Subject: Piped" in mail for mail in sent)
    assert sorted(json.loads(mail.split("\n\n", 1)[1])["body"] for mail in sent) == [
        "one", "two"]


def test_mailto_without_an_address_is_refused(rest):
    response = rest.post("/v2/queues/mailed/subscriptions", json={"subscriber": "mailto:"})
    assert response.status_code == 400
    assert "names no e-mail address" in response.json()["description"]
