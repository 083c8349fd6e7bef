"""``zaqar-server``: serve the REST API (gunicorn) and the websocket API, no config needed.

Options come from oslo.config: ``--config-file``/``--config-dir`` and the usual
``zaqar.conf`` locations; ``[drivers] transport`` picks the transports (both by
default). The storage schema is migrated once, before anything forks; every process
then builds its own storage engine (connections are never shared across fork). With
``[notification] deliver`` (the default), a notifier process delivers to subscribers
(zaqar.notification); it is started again should it die.
"""
import functools
import logging
import os
import sys
import threading
from collections.abc import Callable, Sequence
from typing import Any

from gunicorn.app.base import BaseApplication
from oslo_config import cfg

from zaqar import bootstrap, conf, metrics
from zaqar.auth import secret_key
from zaqar.cmd.children import (
    READY_REST,
    Readiness,
    ServiceChildren,
    signal_ready,
    wait_for_stop_signal,
)
from zaqar.notification.destinations import DestinationPolicy
from zaqar.storage import load_driver, management_driver_class
from zaqar.transport import tls
from zaqar.transport.wsgi.app import body_limit
from zaqar.transport.wsgi.metrics import parse_networks

LOG = logging.getLogger("zaqar.server")
KEEPALIVE_WORKER = "zaqar.transport.wsgi.worker.KeepAliveWorker"


class GunicornServer(BaseApplication):  # type: ignore[misc]
    def __init__(self, conf: cfg.ConfigOpts, ready_fd: int | None = None) -> None:
        self.zaqar_conf = conf
        self._ready_fd = ready_fd
        # Read by the keep-alive worker: how much of a body it buffers, and its TLS
        # context (built again by each worker, so SIGHUP reloads certificate files).
        self.request_body_limit = body_limit(conf)
        self.tls_context: Any = None
        if tls.enabled(conf, tls.WSGI):
            self.tls_context = functools.partial(tls.server_context, conf, tls.WSGI)
        super().__init__()

    def load_config(self) -> None:
        wsgi = self.zaqar_conf["drivers:transport:wsgi"]
        settings: dict[str, Any] = {
            "bind": f"{_host(wsgi.bind)}:{wsgi.port}",
            "workers": wsgi.workers,
            "threads": wsgi.threads,
            # gthread when threads are asked for; else our keep-alive worker (see its
            # module for why not gunicorn's sync worker).
            "worker_class": "gthread" if wsgi.threads > 1 else KEEPALIVE_WORKER,
            "timeout": wsgi.timeout,
            "keepalive": wsgi.keepalive,
            "worker_connections": wsgi.worker_connections,
            "graceful_timeout": 10,
            "accesslog": "-" if wsgi.access_log else None,
            "errorlog": "-",
            "proc_name": "zaqar-server",
            # gunicorn's control socket (one path per user) would be shared by every
            # instance on a host; nothing here uses it.
            "control_socket_disable": True,
            "when_ready": self._when_ready,
            "post_worker_init": lambda _worker: signal_ready(self._ready_fd, READY_REST),
            "child_exit": _worker_exited,
        }
        if self.tls_context is not None:
            # gunicorn's gthread worker reads these; ours calls tls_context. The context
            # is ours either way (TLS 1.2 floor, client certificates with ca_file).
            settings.update(certfile=wsgi.cert_file, keyfile=wsgi.key_file,
                            ssl_context=lambda _config, _default: self.tls_context())
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


def _worker_exited(_arbiter: Any, worker: Any) -> None:
    metrics.mark_process_dead(worker.pid)


def _host(bind: str) -> str:
    return f"[{bind}]" if ":" in bind else bind


def _collect_garbage_forever(conf: cfg.ConfigOpts, interval: int) -> None:
    """Periodic GC in the gunicorn master, so workers spend no time on it."""
    storage = load_driver(conf)
    stop = threading.Event()
    while not stop.wait(interval):
        try:
            removed = storage.collect_garbage()
            if removed:
                LOG.info("Garbage collection removed %d expired rows", removed)
        except Exception:
            LOG.exception("Garbage collection failed; retrying in %d s", interval)


def _prepare_storage(config: cfg.ConfigOpts) -> None:
    """Migrate the storage (with pooling: the management store and every pool) once,
    before anything forks; a driver name nobody provides stops the server."""
    try:
        management_driver_class(config)  # named even without pooling: never ignored
        storage = load_driver(config)
    except RuntimeError as error:
        sys.exit(f"zaqar-server: {error}")
    try:
        storage.prepare()
    finally:
        storage.close()


def setup_logging() -> None:
    logging.basicConfig(level=logging.INFO,
                        format="%(asctime)s %(process)d %(levelname)s %(name)s: %(message)s")


def parse_config(argv: Sequence[str]) -> cfg.ConfigOpts:
    try:
        return conf.new_conf(argv)
    except cfg.Error as error:
        sys.exit(f"zaqar-server: {error}")


def _ensure_secret_key(config: cfg.ConfigOpts) -> None:
    """Generate the pre-signed URL key before any worker needs it, once per start, and
    say where it is kept when none is configured."""
    try:
        secret_key.load_or_create(config)
    except secret_key.SecretKeyError as error:
        sys.exit(f"zaqar-server: {error}")
    if not config.signed_url.secret_key:
        LOG.info("Pre-signed URLs use the key generated in %s; a deployment of several "
                 "nodes must set the same [signed_url] secret_key on each.",
                 secret_key.key_path(config))


def serve_websocket(argv: Sequence[str], on_ready: Callable[[], None]) -> None:
    """A websocket server process (forked by the spawner, zaqar.cmd.children): its own
    configuration, storage and reactor; ``on_ready`` once it accepts connections."""
    from zaqar.transport.websocket.server import serve

    config = parse_config(argv)
    try:
        serve(bootstrap.build_api(config), config, on_ready)
    except Exception as error:  # e.g. the port is taken: one clear line, not a traceback
        sys.exit(f"zaqar-server: the websocket server could not start: {error}")


def serve_notifier(argv: Sequence[str]) -> None:
    """The notifier process (forked by the spawner, zaqar.cmd.children)."""
    from zaqar.notification.service import serve

    serve(parse_config(argv))


def _check_notification(config: cfg.ConfigOpts) -> None:
    try:
        DestinationPolicy(config.notification.allowed_destinations)
    except ValueError as error:
        sys.exit(f"zaqar-server: {error}")


def _use_metrics_directory(config: cfg.ConfigOpts) -> None:
    """One directory per server (its port names it: several servers may share a
    data_dir), emptied at each start, where every process of the server writes its
    metrics (zaqar.metrics)."""
    try:
        parse_networks(config["drivers:transport:wsgi"].metrics_allowed_networks)
    except ValueError as error:
        sys.exit(f"zaqar-server: {error}")
    transport = "wsgi" if "wsgi" in config.drivers.transport else "websocket"
    port = config[f"drivers:transport:{transport}"].port
    path = os.path.join(config.data_dir, "metrics", f"{transport}-{port}")
    try:
        metrics.use_directory(path)
    except OSError as error:
        sys.exit(f"zaqar-server: cannot prepare the metrics directory {path}: {error}")


def main(argv: Sequence[str] | None = None) -> None:
    setup_logging()
    args = list(sys.argv[1:] if argv is None else argv)
    config = parse_config(args)
    transports = set(config.drivers.transport)
    if not transports:
        sys.exit("zaqar-server: [drivers] transport names no transport to serve.")
    _ensure_secret_key(config)
    _check_notification(config)
    try:
        tls.check(config)
    except tls.TlsConfigError as error:
        sys.exit(f"zaqar-server: {error}")
    _use_metrics_directory(config)
    master = os.getpid()
    websockets = (config["drivers:transport:websocket"].workers
                  if "websocket" in transports else 0)
    readiness = Readiness("wsgi" in transports, websockets,
                          lambda: LOG.info("zaqar-server is ready: %s", _serving(config)))
    children = None
    if websockets or config.notification.deliver:
        children = ServiceChildren(args, websockets, config.notification.deliver,
                                   readiness.write_fd)
    _prepare_storage(config)
    if children is not None:
        children.start()
    try:
        if "wsgi" in transports:
            wsgi = config["drivers:transport:wsgi"]
            LOG.info("Serving Zaqar v2 REST API on %s://%s:%d/ (storage: %s)",
                     "https" if wsgi.cert_file else "http", _host(wsgi.bind), wsgi.port,
                     "pools" if config.pooling else config.drivers.message_store)
            GunicornServer(config, readiness.write_fd).run()
        else:
            wait_for_stop_signal()
    finally:
        # A gunicorn worker leaves run() through here too (gunicorn forks inside it):
        # only the master owns the spawner.
        if children is not None and os.getpid() == master:
            children.stop()
            if children.died.is_set():
                sys.exit("zaqar-server: a websocket server exited unexpectedly (see its "
                         "log above); the whole server was stopped.")


def _serving(config: cfg.ConfigOpts) -> str:
    """What the server serves, for its "ready" line."""
    served = []
    for transport, scheme in (("wsgi", "http"), ("websocket", "ws")):
        if transport in config.drivers.transport:
            group = config[f"drivers:transport:{transport}"]
            if group.cert_file:
                scheme += "s"
            served.append(f"{scheme}://{_host(group.bind)}:{group.port}/")
    return ", ".join(served)
