"""The processes beside gunicorn's workers: the websocket servers and the notifier.

``zaqar-server`` starts one helper process, the spawner, which imports the service once
and forks from itself every websocket server (``count`` of them, sharing one port) and
the notifier. A forked child costs milliseconds where a fresh interpreter costs its
imports, about a second of CPU each: on a small machine most of a restart. The spawner
forks before it starts a thread or a reactor, so children inherit neither.

Why a process of its own and not forks of the master: gunicorn forks its workers from
the master, which would make every worker inherit the children's bookkeeping, and the
master runs threads (garbage collection, these watchers) that a fork must not copy.

If a websocket server dies on its own (port in use, crash) the spawner stops the others
and exits, and the master stops too: half a service that looks healthy is worse than a
clear failure that a supervisor restarts. The notifier is forked again after a pause: what
it was delivering is still due in storage, so a restart loses nothing.
"""
import contextlib
import ctypes
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence

LOG = logging.getLogger("zaqar.server")
STOP_TIMEOUT = 10
_PR_SET_PDEATHSIG = 1  # linux/prctl.h
_MASTER_PID = "ZAQAR_SERVER_MASTER_PID"
NOTIFIER_RESTART_DELAY = 1.0
# What a process writes to the readiness pipe once it serves.
READY_REST = b"r"
READY_WEBSOCKET = b"w"
# What the spawner writes to its outcome pipe as it exits.
SPAWNER_STOPPED = b"0"
SPAWNER_FAILED = b"1"


class ServiceChildren:
    """The spawner and, through it, ``websockets`` websocket servers and the notifier.

    The spawner is started at once, so that its imports overlap the master's start-up,
    and forks the servers when :meth:`start` says the storage is ready. ``ready_fd`` is
    the write end of the readiness pipe (:class:`Readiness`); each websocket server
    writes READY_WEBSOCKET to it once it accepts connections.
    """

    def __init__(self, argv: Sequence[str], websockets: int, notifier: bool,
                 ready_fd: int) -> None:
        code = "from zaqar.cmd.children import spawner_main; spawner_main()"
        self._stopping = threading.Event()
        self.died = threading.Event()
        go_read, self._go = os.pipe()
        # The spawner's outcome comes through a pipe, not its exit status: gunicorn's
        # master reaps every child of its process, the spawner included.
        self._outcome, outcome_write = os.pipe()
        self._spawner = subprocess.Popen(
            [sys.executable, "-c", code, str(websockets), "1" if notifier else "0",
             str(ready_fd), str(go_read), str(outcome_write), *argv],
            pass_fds=(ready_fd, go_read, outcome_write),
            env={**os.environ, _MASTER_PID: str(os.getpid())})
        os.close(go_read)
        os.close(outcome_write)
        threading.Thread(target=self._watch, name="zaqar-children-watch", daemon=True).start()

    def start(self) -> None:
        """Let the spawner fork the servers (the storage schema is in place)."""
        os.write(self._go, b"1")
        os.close(self._go)

    def _watch(self) -> None:
        outcome = os.read(self._outcome, 1)  # nothing: the spawner died without a word
        if self._stopping.is_set():
            return
        # A clean stop (b"0") comes from a signal sent to the whole process group
        # (Ctrl-C, systemd): it reached the spawner too, which may finish first.
        if outcome != SPAWNER_STOPPED:
            self.died.set()
            LOG.error("A websocket server process exited unexpectedly; stopping")
        os.kill(os.getpid(), signal.SIGTERM)

    def stop(self) -> None:
        self._stopping.set()
        self._spawner.terminate()
        try:
            self._spawner.wait(STOP_TIMEOUT + 5)
        except subprocess.TimeoutExpired:
            # Its children die with it (die_with_parent).
            LOG.warning("The websocket servers did not stop within %d s; killing them",
                        STOP_TIMEOUT + 5)
            self._spawner.kill()
            self._spawner.wait()


class Readiness:
    """Logs one line when every transport serves: a REST worker and every websocket
    server have written to the pipe (``write_fd``, inherited by gunicorn's workers and
    handed to the spawner)."""

    def __init__(self, rest: bool, websockets: int, announce: Callable[[], None]) -> None:
        self._read_fd, self.write_fd = os.pipe()
        self._missing = {READY_REST: 1 if rest else 0, READY_WEBSOCKET: websockets}
        self._announce = announce
        threading.Thread(target=self._wait, name="zaqar-readiness", daemon=True).start()

    def _wait(self) -> None:
        while any(self._missing.values()):
            chunk = os.read(self._read_fd, 64)
            if not chunk:
                return
            for byte in chunk:
                key = bytes([byte])
                if self._missing.get(key, 0) > 0:
                    self._missing[key] -= 1
        self._announce()


def signal_ready(fd: int | None, what: bytes) -> None:
    """Tell the master a process serves (a closed pipe only means nobody listens)."""
    if fd is None:
        return
    with contextlib.suppress(OSError):
        os.write(fd, what)


def spawner_main() -> None:
    """Entry point of the spawner:
    ``<websockets> <notifier 0|1> <ready fd> <go fd> <outcome fd> <argv...>``."""
    websockets, notifier, ready_fd = int(sys.argv[1]), sys.argv[2] == "1", int(sys.argv[3])
    go_fd, outcome_fd, argv = int(sys.argv[4]), int(sys.argv[5]), sys.argv[6:]
    # Imported once here, inherited by every fork; none starts a thread or a reactor.
    import zaqar.notification.service  # noqa: F401
    import zaqar.transport.websocket.factory  # noqa: F401
    import zaqar.transport.websocket.server  # noqa: F401
    from zaqar.cmd import server
    from zaqar.storage import driver_class

    die_with_parent(int(os.environ.get(_MASTER_PID, "0")) or os.getppid())
    server.setup_logging()
    _set_title("spawner")
    config = server.parse_config(argv)
    driver_class(config)  # imports the storage driver's modules
    if config.pooling:  # and the pooled driver's, which loads the pools' drivers
        import zaqar.storage.pooling  # noqa: F401
    if os.read(go_fd, 1) != b"1":  # the master ended before its storage was ready
        sys.exit(0)
    os.close(go_fd)
    failed = Spawner(argv, websockets, notifier, ready_fd, outcome_fd).run()
    os.write(outcome_fd, SPAWNER_FAILED if failed else SPAWNER_STOPPED)
    sys.exit(1 if failed else 0)


class Spawner:
    def __init__(self, argv: Sequence[str], websockets: int, notifier: bool,
                 ready_fd: int, outcome_fd: int) -> None:
        self._argv = list(argv)
        self._ready_fd = ready_fd
        self._outcome_fd = outcome_fd
        self._stopping = False
        self._websockets = {self._fork(self._serve_websocket, f"websocket {n + 1}")
                            for n in range(websockets)}
        self._notifier = self._fork(self._serve_notifier, "notifier") if notifier else None

    def _fork(self, serve: Callable[[], None], title: str) -> int:
        spawner = os.getpid()
        pid = os.fork()
        if pid:
            return pid
        code = 1
        try:
            die_with_parent(spawner)
            os.close(self._outcome_fd)
            for signum in (signal.SIGTERM, signal.SIGINT):
                signal.signal(signum, signal.SIG_DFL)
            _set_title(title)
            serve()
            code = 0
        except SystemExit as exit_:
            if isinstance(exit_.code, str):
                print(exit_.code, file=sys.stderr)
            code = exit_.code if isinstance(exit_.code, int) else 1
        except BaseException:
            LOG.exception("The %s process failed", title)
        finally:
            logging.shutdown()
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)
        raise AssertionError("unreachable")

    def _serve_websocket(self) -> None:
        from zaqar.cmd.server import serve_websocket

        serve_websocket(self._argv, lambda: signal_ready(self._ready_fd, READY_WEBSOCKET))

    def _serve_notifier(self) -> None:
        from zaqar.cmd.server import serve_notifier

        os.close(self._ready_fd)
        serve_notifier(self._argv)

    def run(self) -> bool:
        """Until every server has ended; whether one failed."""
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, self._stop)
        failed = False
        while self._websockets or self._notifier:
            pid, status = os.waitpid(-1, 0)
            code = os.waitstatus_to_exitcode(status)
            if pid == self._notifier:
                self._notifier = None
                if not self._stopping:
                    LOG.error("The notifier process exited with code %s; starting it "
                              "again", code)
                    time.sleep(NOTIFIER_RESTART_DELAY)
                    if not self._stopping:
                        self._notifier = self._fork(self._serve_notifier, "notifier")
                continue
            self._websockets.discard(pid)
            if not self._stopping:
                if code != 0:
                    LOG.error("A websocket server process exited with code %s; stopping",
                              code)
                    failed = True
                self._stop()
        return failed

    def _stop(self, *_: object) -> None:
        """Stop every child (SIGTERM); kill what still runs after STOP_TIMEOUT."""
        if self._stopping:
            return
        self._stopping = True
        children = [*self._websockets, *([self._notifier] if self._notifier else [])]
        for pid in children:
            _signal(pid, signal.SIGTERM)
        killer = threading.Timer(STOP_TIMEOUT, self._kill_leftovers)
        killer.daemon = True  # the spawner exits as soon as its children have
        killer.start()

    def _kill_leftovers(self) -> None:
        for pid in [*self._websockets, *([self._notifier] if self._notifier else [])]:
            LOG.warning("Process %d ignored SIGTERM for %d s; killing it", pid, STOP_TIMEOUT)
            _signal(pid, signal.SIGKILL)


def die_with_parent(parent: int) -> None:
    """Have the kernel send SIGKILL to this process when ``parent`` ends (Linux's
    PR_SET_PDEATHSIG), so that a master killed with SIGKILL leaves no server holding
    its port; exits at once if ``parent`` is already gone."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed")
    if os.getppid() != parent:
        os._exit(1)


def _signal(pid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signum)


def _set_title(role: str) -> None:
    """``zaqar-server: <role>`` in ps and /proc/<pid>/cmdline."""
    import setproctitle

    setproctitle.setproctitle(f"zaqar-server: {role}")


def wait_for_stop_signal() -> None:
    """Block until SIGTERM or SIGINT (when no gunicorn master does the waiting)."""
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    while not stop.wait(1):
        pass
