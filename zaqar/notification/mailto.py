"""E-mail: ``mailto:`` subscribers get one mail per message, as upstream.

A notification mail's body is the notification document as JSON; its sender is the
subscription's ``from`` option, its subject the URI's ``subject`` query parameter or
else the ``subject`` option. A confirmation notice is a mail made from
``[notification] subscription_confirmation_email_template`` (or the unsubscribe one),
linking to ``external_confirmation_url`` with the pre-signed URL's fields in its query.

Sent either through ``smtp_command`` (``smtp_mode = third_part``, upstream's default:
the mail piped to sendmail) or over SMTP to ``smtp_host`` (``self_local``; upstream
always uses TLS from the start and logs in, we follow ``smtp_security`` and log in only
with a user name). Temporary failures (the server unreachable, 4xx replies, the command
failing) are retried as the retry policy says; permanent ones (5xx) are given up.
"""
import json
import smtplib
import subprocess
from email.message import EmailMessage
from email.utils import parseaddr
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

from oslo_config import cfg

from zaqar.notification.base import (
    DELIVERED,
    SUBSCRIPTION_CONFIRMATION,
    UNSUBSCRIBE_CONFIRMATION,
    Outcome,
    confirm_path,
)
from zaqar.storage.base import Subscription

MAX_LINE = 998  # characters of a line SMTP carries (RFC 5322)
# The query of the confirmation link: upstream's parameter -> the notice's field.
_LINK_FIELDS = (("Signature", "URL-Signature"), ("Methods", "URL-Methods"),
                ("Paths", "URL-Paths"), ("Project", "X-Project-ID"),
                ("Expires", "URL-Expires"))


class MailSender:
    def __init__(self, conf: cfg.ConfigOpts) -> None:
        self._conf = conf.notification

    def send(self, subscription: Subscription, document: dict[str, Any]) -> Outcome:
        try:
            mail = self._compose(subscription, document)
        except ValueError as error:
            return Outcome(False, error=str(error))
        if self._conf.smtp_mode == "third_part":
            return self._pipe(mail)
        return self._speak_smtp(mail)

    def _compose(self, subscription: Subscription, document: dict[str, Any]) -> EmailMessage:
        """Raises ValueError when a confirmation mail cannot be made."""
        address = urlsplit(subscription.subscriber)
        mail = EmailMessage()
        kind = document.get("Message_Type")
        if kind in (SUBSCRIPTION_CONFIRMATION, UNSUBSCRIBE_CONFIRMATION):
            template = (self._conf.subscription_confirmation_email_template
                        if kind == SUBSCRIPTION_CONFIRMATION
                        else self._conf.unsubscribe_confirmation_email_template)
            _set_text(mail, template.get("body", "").format(
                subscription.source, document.get("X-Project-ID", ""),
                self._confirmation_link(subscription, document)))
            sender, subject = template.get("sender", ""), template.get("topic", "")
        else:
            _set_text(mail, json.dumps(document))
            query = {key.lower(): values for key, values in parse_qs(address.query).items()}
            sender = str(subscription.options.get("from", ""))
            subject = query["subject"][0] if "subject" in query else str(
                subscription.options.get("subject", ""))
        mail["To"] = address.path
        mail["From"] = sender
        mail["Subject"] = subject
        return mail

    def _confirmation_link(self, subscription: Subscription, notice: dict[str, Any]) -> str:
        base = self._conf.external_confirmation_url
        if not base:
            raise ValueError("No confirmation e-mail can be made: set [notification] "
                             "external_confirmation_url.")
        fields = [(name, str(notice.get(field, ""))) for name, field in _LINK_FIELDS]
        # A topic's link names it as Topic (ours), a queue's as Queue (upstream's).
        source = "Topic" if "topic_name" in notice else "Queue"
        fields += [("Url", confirm_path(subscription)), (source, subscription.source)]
        query = "&".join(f"{name}={quote(value, safe='/:')}" for name, value in fields)
        return f"{base}?{query}"

    def _pipe(self, mail: EmailMessage) -> Outcome:
        command = self._conf.smtp_command.split()
        try:
            done = subprocess.run(command, input=mail.as_bytes(), capture_output=True,
                                  timeout=self._conf.webhook_timeout, check=False)
        except FileNotFoundError:
            return Outcome(False, error=f"[notification] smtp_command {command[0]!r} "
                                        "does not exist.")
        except (OSError, subprocess.TimeoutExpired) as error:
            return Outcome(False, retryable=True, error=f"smtp_command failed: {error}")
        if done.returncode != 0:
            detail = done.stderr.decode(errors="replace").strip()[:200]
            return Outcome(False, retryable=True, error=f"smtp_command exited with "
                                                        f"{done.returncode}: {detail}")
        return DELIVERED

    def _speak_smtp(self, mail: EmailMessage) -> Outcome:
        conf = self._conf
        secure = conf.smtp_security == "ssl"
        port = conf.smtp_port or (465 if secure else 25)
        connection_class = smtplib.SMTP_SSL if secure else smtplib.SMTP
        try:
            with connection_class(conf.smtp_host or "", port,
                                  timeout=conf.webhook_timeout) as smtp:
                if conf.smtp_security == "starttls":
                    smtp.starttls()
                if conf.smtp_user_name:
                    smtp.login(conf.smtp_user_name, conf.smtp_user_password or "")
                # The envelope: the null sender (<>) when the mail names none.
                smtp.sendmail(parseaddr(mail["From"])[1], [mail["To"]], mail.as_bytes())
        except smtplib.SMTPAuthenticationError as error:
            return Outcome(False, error=f"SMTP login refused: {error.smtp_code}")
        except smtplib.SMTPResponseException as error:
            return Outcome(False, retryable=400 <= error.smtp_code < 500,
                           error=f"SMTP server answered {error.smtp_code}: "
                                 f"{error.smtp_error!r}")
        except smtplib.SMTPRecipientsRefused as error:
            codes = [code for code, _ in error.recipients.values()]
            return Outcome(False, retryable=all(400 <= code < 500 for code in codes),
                           error=f"SMTP server refused the recipient: {codes}")
        except (OSError, smtplib.SMTPException) as error:
            return Outcome(False, retryable=True, error=f"SMTP: {error}")
        return DELIVERED


def _set_text(mail: EmailMessage, text: str) -> None:
    """As upstream's mails: plain 7bit text when it is ASCII in lines SMTP carries
    (readers see the JSON as it is), else base64 of UTF-8."""
    plain = text.isascii() and all(len(line) <= MAX_LINE for line in text.splitlines())
    mail.set_content(text, cte="7bit" if plain else "base64")
