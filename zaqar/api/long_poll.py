"""Long polling (beyond upstream): ``wait`` on claim_create and message_list.

A claim or a listing that finds no messages and names ``wait=N`` (validated by the
action: 0 to :data:`~zaqar.api.validation.MAX_WAIT` seconds) is to be answered as soon
as messages may be there, or after N seconds with the empty answer. Waiting is the
transport's: it parks the request without holding a thread where it can, and runs the
action again when a post to the queue is announced (or N seconds pass). This module says
which answers may wait, and on what.
"""
from typing import Any

from zaqar.api.request import Response
from zaqar.api.validation import Validator

# Actions that may wait -> whether they consume what they find (a claim takes messages
# from every other waiter; a listing takes nothing).
WAITING_ACTIONS = {"claim_create": True, "message_list": False}


def wait_seconds(action: str, params: dict[str, Any], response: Response) -> int:
    """Seconds the answer to ``action`` may wait for messages: ``wait`` when the action
    found none, else 0. Call after the action succeeded (so ``wait`` is valid)."""
    if action not in WAITING_ACTIONS:
        return 0
    wait = Validator.wait(params)
    if not wait:
        return 0
    if action == "claim_create":
        return wait if response.status == 204 else 0
    return 0 if isinstance(response.body, dict) and response.body.get("messages") else wait


def consumes(action: str) -> bool:
    """Whether a waiter of ``action`` takes the messages it finds (the next waiter of the
    queue need not look once one came back empty)."""
    return WAITING_ACTIONS.get(action, False)
