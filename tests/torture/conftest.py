"""Scale and figures of the torture suite.

``ZAQAR_TORTURE_SCALE=ci`` runs the bounded form (CI: the whole suite in a few minutes on
two cores); unset or ``full``, the full form (``tox -e torture``). Each test records the
figures it measured through the ``figures`` fixture: they are printed (``pytest -s``) and
written, one JSON file per test, under ``$ZAQAR_TEST_ARTIFACTS/torture/`` (else the
test's tmp dir), so every run leaves a record.
"""
import json
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest


@dataclass(frozen=True)
class Scale:
    name: str
    crash_cycles: int  # SIGKILLs of the whole server per engine
    traffic_seconds: float  # load between two kills
    claim_messages: int  # messages in the claimers' queue
    fuzz_examples: int  # hypothesis examples per fuzz strategy
    idle_connections: int


SCALES = {
    "ci": Scale("ci", crash_cycles=2, traffic_seconds=2.0, claim_messages=1000,
                fuzz_examples=150, idle_connections=1000),
    "full": Scale("full", crash_cycles=6, traffic_seconds=6.0, claim_messages=4000,
                  fuzz_examples=1500, idle_connections=1000),
}


@pytest.fixture(scope="session")
def scale() -> Scale:
    name = os.environ.get("ZAQAR_TORTURE_SCALE", "full")
    if name not in SCALES:
        raise pytest.UsageError(f"ZAQAR_TORTURE_SCALE={name!r}: use one of {sorted(SCALES)}")
    return SCALES[name]


class Figures(dict):
    """What a test measured, by name; printed and saved when the test ends."""


@pytest.fixture
def figures(request: pytest.FixtureRequest, scale: Scale,
            tmp_path: Path) -> Iterator[Figures]:
    measured = Figures(test=request.node.nodeid, scale=scale.name,
                       started=time.strftime("%Y-%m-%dT%H:%M:%S"))
    started = time.monotonic()
    yield measured
    measured["seconds"] = round(time.monotonic() - started, 1)
    artifacts = os.environ.get("ZAQAR_TEST_ARTIFACTS")
    directory = Path(artifacts) / "torture" if artifacts else tmp_path
    directory.mkdir(parents=True, exist_ok=True)
    record = directory / f"{request.node.name.replace('/', '_')}.json"
    record.write_text(json.dumps(measured, indent=2, default=str) + "\n")
    print(f"\n[torture] {request.node.nodeid}: "
          + ", ".join(f"{key}={value}" for key, value in measured.items()
                      if key not in ("test", "started"))
          + f"\n[torture] figures written to {record}")
