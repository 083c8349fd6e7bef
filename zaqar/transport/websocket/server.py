"""Run the websocket server on the Twisted reactor until SIGTERM/SIGINT."""
import logging
import os
import socket
from collections.abc import Callable
from typing import Any

from oslo_config import cfg

from zaqar import metrics
from zaqar.api import Api
from zaqar.transport import tls

LOG = logging.getLogger(__name__)
# How long shutdown waits for clients to answer the 1001 close.
GOING_AWAY_WAIT = 2.0


def _listening_socket(bind: str, port: int, shared: bool) -> socket.socket:
    """A listening socket; ``shared`` lets the other worker processes bind the same port.

    Raises OSError when the port is taken (by anything not sharing it).
    """
    family = socket.AF_INET6 if ":" in bind else socket.AF_INET
    listener = socket.socket(family, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if shared:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    try:
        listener.bind((bind, port))
        listener.listen(1024)
    except OSError:
        listener.close()
        raise
    listener.setblocking(False)
    return listener


def serve(api: Api, conf: cfg.ConfigOpts,
          on_ready: Callable[[], None] | None = None) -> None:
    """Block serving websocket clients; returns after a clean shutdown. ``on_ready`` is
    called once the server accepts connections."""
    from twisted.internet import defer, reactor, task

    from zaqar.transport.websocket.factory import MessagingServerFactory

    group = conf["drivers:transport:websocket"]
    factory = MessagingServerFactory(api, conf, reactor)
    # Counted, and posts served here wake this process's long polls at once.
    metrics.observe_dispatch(api, "websocket", on_success=lambda action, request, _:
                             factory.waits.announce_post(action, request))
    scheme, served = "ws", factory
    if tls.enabled(conf, tls.WEBSOCKET):
        from twisted.protocols.tls import TLSMemoryBIOFactory

        scheme = "wss"
        factory.setSessionParameters(f"wss://{group.bind}:{group.port}", factory.protocols,
                                     factory.server, factory.headers, factory.externalPort)
        served = TLSMemoryBIOFactory(tls.twisted_options(conf, tls.WEBSOCKET), False, factory)
    # Listen before starting the runner threads: a port in use must end the process, and
    # live threads would keep it from exiting.
    listener = _listening_socket(group.bind, group.port, shared=group.workers > 1)
    reactor.adoptStreamPort(listener.fileno(), listener.family, served)
    listener.close()  # the reactor holds its own duplicate
    factory.start()

    def _going_away() -> Any:
        """Every connection gets its 1001 close; shutdown waits for their answers (at
        most GOING_AWAY_WAIT seconds), so the close frames go out before the process
        ends."""
        closing = [connection.go_away() for connection in list(factory.connections)]
        if not closing:
            return None
        waited = defer.DeferredList(closing, consumeErrors=True)
        waited.addTimeout(GOING_AWAY_WAIT, reactor)
        waited.addErrback(lambda _: None)
        return waited

    # Sampled rather than counted in the protocol: one gauge write a second.
    connections = metrics.metrics().websocket_connections
    sampling = task.LoopingCall(lambda: connections.set(len(factory.connections)))
    sampling.clock = reactor
    sampling.start(1.0)
    reactor.addSystemEventTrigger("before", "shutdown", _going_away)
    reactor.addSystemEventTrigger("after", "shutdown", factory.stop)
    LOG.info("Serving Zaqar websocket API on %s://%s:%d/", scheme, group.bind, group.port)
    if on_ready is not None:
        reactor.callWhenRunning(on_ready)
    try:
        reactor.run()
    finally:
        metrics.mark_process_dead(os.getpid())
