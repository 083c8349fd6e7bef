"""Fetch python-zaqarclient's own functional suite and run it against a server.

The suite's test modules (``tests/functional/`` of the client's source distribution) are
not in the installed wheel: they come from the sdist on PyPI, fetched by pip at the version
pinned in setup.cfg and kept in a cache directory. Nothing of it is copied into this
repository. The classes those modules subclass (``zaqarclient.tests``) do ship in the wheel,
so the installed client must be exactly the pinned version.

The suite runs with pytest in a subprocess (it is a testtools suite, which pytest runs as
unittest cases), pointed at the server by the client's own variables: ``ZAQAR_ENDPOINT``,
and ``ZAQARCLIENT_TEST_FUNCTIONAL=1`` without ``ZAQARCLIENT_AUTH_FUNCTIONAL`` (the client's
"noauth" backend, project ``my-project``). Its results are read back from a JUnit XML report.
"""
import os
import subprocess
import sys
import tarfile
import tempfile
import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

DISTRIBUTION = "python-zaqarclient"
SUITE_PATH = "tests/functional"
RUN_TIMEOUT = 600.0
DOWNLOAD_TIMEOUT = 300.0


class SuiteUnavailable(Exception):
    """The pinned sdist could not be fetched or unpacked."""


@dataclass(frozen=True)
class Outcome:
    """One client test's result: ``passed``, ``failed`` or ``skipped``, and what it said."""
    status: str
    details: str = ""


def installed_version() -> str:
    return metadata.version(DISTRIBUTION)


def cache_root() -> Path:
    """``ZAQAR_TEST_CACHE_DIR``, else ``~/.cache/zaqar-lite-tests`` (XDG_CACHE_HOME honoured)."""
    configured = os.environ.get("ZAQAR_TEST_CACHE_DIR")
    if configured:
        return Path(configured)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(Path.home(), ".cache")
    return Path(base) / "zaqar-lite-tests"


def fetch_suite(version: str) -> Path:
    """The directory holding the sdist's ``tests/`` tree at ``version``, fetched once.

    Raises :class:`SuiteUnavailable` when pip cannot fetch it or the archive has no suite.
    """
    target = cache_root() / f"{DISTRIBUTION}-{version}"
    if (target / SUITE_PATH).is_dir():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as scratch:
        archive = _download_sdist(version, Path(scratch) / "download")
        unpacked = Path(scratch) / "suite"
        _extract_tests(archive, unpacked)
        (unpacked / "pytest.ini").write_text(
            "[pytest]\n# Written by zaqar-lite's tests: anchors the client suite's rootdir.\n")
        try:
            unpacked.rename(target)
        except OSError:  # another test session unpacked it first
            if not (target / SUITE_PATH).is_dir():
                raise
    return target


def _download_sdist(version: str, directory: Path) -> Path:
    command = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
               "--no-binary", ":all:", "--dest", str(directory),
               f"{DISTRIBUTION}=={version}"]
    try:
        done = subprocess.run(command, capture_output=True, text=True,
                              timeout=DOWNLOAD_TIMEOUT)
    except subprocess.TimeoutExpired as exc:
        raise SuiteUnavailable(f"pip download took over {DOWNLOAD_TIMEOUT} s") from exc
    archives = sorted(directory.glob("*.tar.gz")) if directory.is_dir() else []
    if done.returncode != 0 or not archives:
        raise SuiteUnavailable(f"{' '.join(command)} exited with {done.returncode}:\n"
                               f"{done.stdout}{done.stderr}")
    return archives[0]


def _extract_tests(archive: Path, destination: Path) -> None:
    """Only the sdist's top-level ``tests/`` package (its ``__init__`` files and
    ``functional/``), so the installed ``zaqarclient`` is the one under test."""
    with tarfile.open(archive) as sdist:
        members = []
        for member in sdist.getmembers():
            top, _, inner = member.name.partition("/")
            if inner == "tests/__init__.py" or inner.startswith(SUITE_PATH + "/"):
                member.name = inner
                members.append(member)
        if not any(m.name.startswith(SUITE_PATH + "/") for m in members):
            raise SuiteUnavailable(f"{archive.name} has no {SUITE_PATH}/")
        sdist.extractall(destination, members=members, filter="data")


def run_suite(suite_dir: Path, endpoint: str, deselect: list[str], report_dir: Path,
              select: tuple[str, ...] = (SUITE_PATH,)) -> tuple[dict[str, Outcome], str]:
    """Run the client's functional suite (the ``select`` paths of it) against
    ``endpoint``; the outcome of every test that ran, keyed ``<module>.<class>.<test>``,
    and pytest's console output."""
    report = report_dir / "zaqarclient-suite.xml"
    command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "-rfE",
               "--tb=short", "-c", str(suite_dir / "pytest.ini"), "--rootdir", str(suite_dir),
               f"--junitxml={report}", "-o", "junit_family=xunit1", *select]
    for path in deselect:
        command += ["--deselect", path]
    env = {name: value for name, value in os.environ.items()
           if name != "PYTHONPATH" and not name.startswith(("ZAQARCLIENT_", "PYTEST_"))}
    env.update(ZAQARCLIENT_TEST_FUNCTIONAL="1", ZAQAR_ENDPOINT=endpoint,
               # Read at import time; without it the client looks up this host's address.
               ZAQAR_SERVICE_HOST="127.0.0.1", PYTHONDONTWRITEBYTECODE="1")
    done = subprocess.run(command, cwd=suite_dir, env=env, capture_output=True, text=True,
                          timeout=RUN_TIMEOUT)
    console = done.stdout + done.stderr
    if not report.exists():
        raise AssertionError(f"the client suite wrote no report (exit {done.returncode}):\n"
                             f"{console}")
    return parse_junit(report), console


def parse_junit(report: Path) -> dict[str, Outcome]:
    outcomes: dict[str, Outcome] = {}
    for case in ElementTree.parse(report).getroot().iter("testcase"):
        # classname: tests.functional.queues.v2.<module>.<class>
        module, test_class = case.get("classname", "").split(".")[-2:]
        outcomes[f"{module}.{test_class}.{case.get('name')}"] = _outcome(case)
    return outcomes


def _outcome(case: ElementTree.Element) -> Outcome:
    for status, tags in (("failed", ("failure", "error")), ("skipped", ("skipped",))):
        for tag in tags:
            element = case.find(tag)
            if element is not None:
                text = (element.get("message") or "") + "\n" + (element.text or "")
                return Outcome(status, text.strip())
    return Outcome("passed")
