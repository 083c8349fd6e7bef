"""The documentation's action tables follow the action registry: docs/actions.md is
generated from it, and docs/websocket.md describes every name the websocket answers to."""
import importlib.util
import re
from pathlib import Path

from zaqar.api import registry

ROOT = Path(__file__).resolve().parents[3]


def _generator():
    spec = importlib.util.spec_from_file_location("action_docs", ROOT / "tools" / "action_docs.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_actions_md_is_generated_from_the_registry():
    assert (ROOT / "docs" / "actions.md").read_text() == _generator().render(), (
        "docs/actions.md is out of date with zaqar/api/registry.py; regenerate it with "
        "`tox -e gendocs` and commit the result.")


def test_websocket_md_describes_every_websocket_name_and_no_other():
    text = (ROOT / "docs" / "websocket.md").read_text()
    section = text[text.index("## Actions"):text.index("\n## ", text.index("## Actions") + 1)]
    described = set()
    for cell in re.findall(r"^\| ([^|]+) \|", section, re.MULTILINE):
        described.update(re.findall(r"`([a-z_]+)`", cell))
    # authenticate is the connection's own, answered by the transport.
    assert described == set(registry.WEBSOCKET_NAMES) | {"authenticate"}
