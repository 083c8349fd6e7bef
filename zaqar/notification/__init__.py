"""Delivery of what is posted to a queue to its subscribers.

Not a transport (nothing here answers requests) and not storage (it only reads and
records through the storage contract): :mod:`zaqar.notification.notifier` runs in a
process of its own, looks for messages after each subscription's delivery cursor
(``storage.base.Delivery``), and hands them to the sender of the subscriber's scheme
(:mod:`webhook`, :mod:`mailto`, :mod:`trust`), retrying as the retry policy
(:mod:`retry`) says. Since the cursor moves only once a message is delivered or given up
on, a notifier that dies delivers the rest when it starts again: at least once.
"""
