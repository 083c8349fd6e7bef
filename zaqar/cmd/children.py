"""Websocket server processes started and watched by ``zaqar-server``."""
import logging
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Sequence

LOG = logging.getLogger("zaqar.server")
STOP_TIMEOUT = 10


class WebsocketProcesses:
    """``count`` websocket servers sharing one port, each a process of its own.

    Plain subprocesses, not multiprocessing: gunicorn forks its workers from the master,
    and a multiprocessing child would be inherited by each of them. If one dies on its
    own (port in use, crash) the master is sent SIGTERM: half a service that looks
    healthy is worse than a clear failure that a supervisor restarts.
    """

    def __init__(self, argv: Sequence[str], count: int) -> None:
        code = "from zaqar.cmd.server import websocket_main; websocket_main()"
        self._stopping = threading.Event()
        self.died = threading.Event()
        self._children = [subprocess.Popen([sys.executable, "-c", code, *argv])
                          for _ in range(count)]
        for child in self._children:
            threading.Thread(target=self._watch, args=(child,), name="zaqar-websocket-watch",
                             daemon=True).start()

    def _watch(self, child: subprocess.Popen[bytes]) -> None:
        child.wait()
        if self._stopping.is_set():
            return
        # Exit code 0 is a clean stop: a signal sent to the whole process group (Ctrl-C,
        # systemd) reaches the children too, and one may finish before the master.
        if child.returncode != 0:
            self.died.set()
            LOG.error("A websocket server process exited with code %s; stopping",
                      child.returncode)
        os.kill(os.getpid(), signal.SIGTERM)

    def stop(self) -> None:
        self._stopping.set()
        for child in self._children:
            child.terminate()
        for child in self._children:
            try:
                child.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                LOG.warning("A websocket server ignored SIGTERM for %d s; killing it",
                            STOP_TIMEOUT)
                child.kill()
                child.wait()


def wait_for_stop_signal() -> None:
    """Block until SIGTERM or SIGINT (when no gunicorn master does the waiting)."""
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    while not stop.wait(1):
        pass
