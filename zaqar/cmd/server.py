"""``zaqar-server``: serve the REST API with gunicorn, with no config file needed.

Options come from oslo.config: ``--config-file``/``--config-dir`` and the usual
``zaqar.conf`` locations. The storage schema is migrated once, in the master, before
workers fork; each worker then builds its own storage engine (connections are not
shared across fork).
"""
import logging
import sys
import threading
from collections.abc import Sequence
from typing import Any

from gunicorn.app.base import BaseApplication
from oslo_config import cfg

from zaqar import bootstrap, conf
from zaqar.storage import load_driver

LOG = logging.getLogger("zaqar.server")


class GunicornServer(BaseApplication):  # type: ignore[misc]
    def __init__(self, conf: cfg.ConfigOpts) -> None:
        self.zaqar_conf = conf
        super().__init__()

    def load_config(self) -> None:
        wsgi = self.zaqar_conf["drivers:transport:wsgi"]
        settings: dict[str, Any] = {
            "bind": f"{_host(wsgi.bind)}:{wsgi.port}",
            "workers": wsgi.workers,
            "threads": wsgi.threads,
            "worker_class": "gthread" if wsgi.threads > 1 else "sync",
            "timeout": wsgi.timeout,
            "graceful_timeout": 10,
            "accesslog": "-" if wsgi.access_log else None,
            "errorlog": "-",
            "proc_name": "zaqar-server",
            "when_ready": self._when_ready,
        }
        for key, value in settings.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        # Runs in each worker after fork.
        return bootstrap.build_wsgi_app(self.zaqar_conf)

    def _when_ready(self, _arbiter: Any) -> None:
        interval = self.zaqar_conf.gc.interval
        if interval:
            threading.Thread(target=_collect_garbage_forever, args=(self.zaqar_conf, interval),
                             name="zaqar-gc", daemon=True).start()


def _host(bind: str) -> str:
    return f"[{bind}]" if ":" in bind else bind


def _collect_garbage_forever(conf: cfg.ConfigOpts, interval: int) -> None:
    """Periodic GC in the master, so workers spend no time on it."""
    storage = load_driver(conf)
    stop = threading.Event()
    while not stop.wait(interval):
        try:
            removed = storage.collect_garbage()
            if removed:
                LOG.info("Garbage collection removed %d expired rows", removed)
        except Exception:
            LOG.exception("Garbage collection failed; retrying in %d s", interval)


def main(argv: Sequence[str] | None = None) -> None:
    logging.basicConfig(level=logging.INFO,
                        format="%(asctime)s %(process)d %(levelname)s %(name)s: %(message)s")
    try:
        config = conf.new_conf(sys.argv[1:] if argv is None else argv)
    except cfg.Error as error:
        sys.exit(f"zaqar-server: {error}")
    storage = load_driver(config)
    storage.prepare()
    storage.close()
    wsgi = config["drivers:transport:wsgi"]
    LOG.info("Serving Zaqar v2 REST API on http://%s:%d/ (storage: %s)", _host(wsgi.bind),
             wsgi.port, config.drivers.message_store)
    GunicornServer(config).run()
