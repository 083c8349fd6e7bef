"""Writes docs/actions.md, the table of every action, from the action registry
(zaqar/api/registry.py): ``python tools/action_docs.py`` (``tox -e gendocs``).
tests/unit/api/test_action_docs.py fails while the committed file differs."""
import sys
from pathlib import Path

from zaqar.api.registry import ACTIONS, Action

OUTPUT = Path(__file__).resolve().parents[1] / "docs" / "actions.md"

HEADER = """\
# Actions

Every action of the service, as declared once in `zaqar/api/registry.py`; this file is
generated from it by `python tools/action_docs.py` (`tox -e gendocs`). The websocket API
answers to each name (and alias) in a frame's `action`; REST requests call the same
actions. Policy rules (oslo.policy, upstream Zaqar's names) guard both transports: `""`
is any token of the project, `rule:context_is_admin` the `admin` role. A pre-signed URL
may grant the actions that name a method and a path here, when it signs that method and
that path (its fields filled as in the request): a queue's shared URL
(`POST /v2/queues/{queue_name}/share`), or the confirmation notice of a subscription
([notifications.md](notifications.md#confirmation)). Admin actions are served only with
`[DEFAULT] admin_mode = true`; pools and flavors only with `[DEFAULT] pooling = true` as
well.
Request bodies and replies of the websocket API are in [websocket.md](websocket.md).

| action | websocket aliases | REST | policy rule (default) | pre-signed URL | admin |
|---|---|---|---|---|---|
"""


def _row(action: Action) -> str:
    rest = "<br>".join(
        f"`{endpoint.method} {endpoint.path}`"
        + (f" with `?{endpoint.selected_by}`" if endpoint.selected_by else "")
        for endpoint in action.rest) or "— (websocket only)"
    aliases = ", ".join(f"`{alias}`" for alias in action.aliases) or "—"
    signed = f"`{action.signed[0]} {action.signed[1]}`" if action.signed else "—"
    return (f"| `{action.name}` | {aliases} | {rest} | `{action.rule}` (`\"{action.check}\"`)"
            f" | {signed} | {_admin(action)} |\n")


def _admin(action: Action) -> str:
    if action.pooling:
        return "yes, with pooling"
    return "yes" if action.admin else "—"


def render() -> str:
    return HEADER + "".join(_row(action) for action in ACTIONS)


def main() -> None:
    OUTPUT.write_text(render())
    print(f"wrote {OUTPUT}", file=sys.stderr)


if __name__ == "__main__":
    main()
