"""Run the websocket server on the Twisted reactor until SIGTERM/SIGINT."""
import logging

from oslo_config import cfg

from zaqar.api import Api

LOG = logging.getLogger(__name__)


def serve(api: Api, conf: cfg.ConfigOpts) -> None:
    """Block serving websocket clients; returns after a clean shutdown."""
    from twisted.internet import reactor

    from zaqar.transport.websocket.factory import MessagingServerFactory
    from zaqar.transport.websocket.protocol import CLOSE_GOING_AWAY

    group = conf["drivers:transport:websocket"]
    factory = MessagingServerFactory(api, conf, reactor)
    # Listen before starting the thread pool: a port in use must end the process, and
    # live pool threads would keep it from exiting.
    reactor.listenTCP(group.port, factory, interface=group.bind)
    factory.start()

    def _going_away() -> None:
        for connection in list(factory.connections):
            connection.sendClose(CLOSE_GOING_AWAY, "server shutting down")

    reactor.addSystemEventTrigger("before", "shutdown", _going_away)
    reactor.addSystemEventTrigger("after", "shutdown", factory.stop)
    LOG.info("Serving Zaqar websocket API on ws://%s:%d/", group.bind, group.port)
    reactor.run()
