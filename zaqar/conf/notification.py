"""Options of the ``[notification]`` group: delivery to subscribers (zaqar.notification).

Upstream's options keep their names and defaults; ours (the allow-list of destinations,
timeouts, the per-subscriber cap, the poll interval, SMTP security) are marked so in
their help.
"""
from oslo_config import cfg

GROUP = "notification"

_EMAIL_SENDER = "Zaqar Notifications <no-reply@openstack.org>"

OPTS = [
    cfg.StrOpt("smtp_mode", default="third_part", choices=("third_part", "self_local"),
               help="How e-mail (mailto: subscribers) is sent: third_part pipes each mail "
                    "to smtp_command; self_local speaks SMTP to smtp_host:smtp_port."),
    cfg.HostAddressOpt("smtp_host", help="The SMTP server (smtp_mode = self_local)."),
    cfg.PortOpt("smtp_port", help="The SMTP server's port (smtp_mode = self_local); unset: "
                                  "465 with smtp_security = ssl, else 25."),
    cfg.StrOpt("smtp_user_name", help="SMTP login (smtp_mode = self_local); unset: no "
                                      "login."),
    cfg.StrOpt("smtp_user_password", secret=True, help="SMTP password (with "
                                                       "smtp_user_name)."),
    cfg.StrOpt("smtp_command", default="/usr/sbin/sendmail -t -oi",
               help="The command a mail is piped to (smtp_mode = third_part), split on "
                    "spaces and run without a shell."),
    cfg.StrOpt("smtp_security", default="ssl", choices=("ssl", "starttls", "none"),
               help="(zaqar-lite) How self_local mode secures its SMTP connection: ssl "
                    "(upstream's only way: TLS from the start), starttls, or none (for a "
                    "relay on the same host only)."),
    cfg.IntOpt("max_notifier_workers", default=10, min=1,
               help="Threads delivering notifications at once (each one subscription at "
                    "a time)."),
    cfg.BoolOpt("require_confirmation", default=False,
                help="Whether http, https and mailto subscribers must confirm their "
                     "subscription (through the pre-signed URL of the confirmation notice "
                     "they are sent) before anything is delivered to them."),
    cfg.StrOpt("external_confirmation_url",
               help="The page the confirmation e-mail links to, with the pre-signed URL's "
                    "fields in its query string (mailto subscribers, with "
                    "require_confirmation)."),
    cfg.DictOpt("subscription_confirmation_email_template",
                default={"topic": "Zaqar Notification - Subscription Confirmation",
                         "body": "You have chosen to subscribe to the queue: {0}. This "
                                 "queue belongs to project: {1}. To confirm this "
                                 "subscription, click or visit this link below: {2}",
                         "sender": _EMAIL_SENDER},
                help="Subject (topic), body and sender of the confirmation e-mail; in the "
                     "body {0} is the queue, {1} the project, {2} the confirmation link."),
    cfg.DictOpt("unsubscribe_confirmation_email_template",
                default={"topic": "Zaqar Notification - Unsubscribe Confirmation",
                         "body": "You have unsubscribed successfully to the queue: {0}. "
                                 "This queue belongs to project: {1}. To resubscribe this "
                                 "subscription, click or visit this link below: {2}",
                         "sender": _EMAIL_SENDER},
                help="As subscription_confirmation_email_template, for the notice sent "
                     "when a subscription is confirmed false."),
    cfg.ListOpt("allowed_destinations", default=[],
                help="(zaqar-lite) Where webhooks may be delivered: host names "
                     "(hooks.example.com), domains (*.example.com), IP addresses and "
                     "networks (192.0.2.0/24, 2001:db8::/32), or * for anywhere. A host "
                     "name not listed is refused without being looked up in DNS; an "
                     "address written in the URL must fall in a listed network. Empty (the "
                     "default): no webhook is sent, each refusal is logged and shown in "
                     "the subscription's delivery record. Loopback and private networks "
                     "are reachable only when listed: keep them out unless the receivers "
                     "live there."),
    cfg.FloatOpt("webhook_connect_timeout", default=5.0, min=0.1,
                 help="(zaqar-lite) Seconds a webhook may take to accept the connection."),
    cfg.FloatOpt("webhook_timeout", default=10.0, min=0.1,
                 help="(zaqar-lite) Seconds a webhook may stay silent while answering; "
                      "a delivery that times out is retried as the retry policy says."),
    cfg.IntOpt("max_deliveries_per_subscriber", default=2, min=1,
               help="(zaqar-lite) Deliveries to one subscriber URI in progress at once "
                    "(over all the queues it is subscribed to), so that a slow receiver "
                    "holds at most this many of the max_notifier_workers threads."),
    cfg.FloatOpt("poll_interval", default=1.0, min=0.05,
                 help="(zaqar-lite) Seconds between looks for new messages to deliver. "
                      "With Redis, posts are also announced, and delivered at once."),
    cfg.BoolOpt("deliver", default=True,
                help="(zaqar-lite) Whether this zaqar-server runs the delivery process. "
                     "Nodes sharing one store may all run it: a delivery lease in the "
                     "store gives each subscription to one of them at a time."),
    cfg.FloatOpt("delivery_lease", default=30.0, min=1.0,
                 help="(zaqar-lite) Seconds a notifier holds a subscription's delivery "
                      "lease without renewing it. It renews it before each attempt once "
                      "a third of this has passed, so keep it above 1.5 times "
                      "webhook_connect_timeout + webhook_timeout (the longest "
                      "attempt); a node that dies "
                      "leaves its subscriptions to the others after at most this long."),
]
