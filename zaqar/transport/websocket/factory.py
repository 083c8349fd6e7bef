"""The Autobahn server factory: shared state and limits of every connection."""
import time
from typing import Any

from autobahn.twisted.websocket import WebSocketServerFactory
from oslo_config import cfg
from twisted.internet import task

from zaqar.api import Api
from zaqar.transport.websocket.long_poll import WebsocketWaits
from zaqar.transport.websocket.protocol import (
    CLOSE_IDLE,
    MAX_SEND_BACKLOG,
    MessagingProtocol,
)
from zaqar.transport.websocket.push import PushHub
from zaqar.transport.websocket.runner import BlockingCallRunner


class MessagingServerFactory(WebSocketServerFactory):  # type: ignore[misc]
    protocol = MessagingProtocol

    def __init__(self, api: Api, conf: cfg.ConfigOpts, reactor: Any) -> None:
        group = conf["drivers:transport:websocket"]
        super().__init__(f"ws://{group.bind}:{group.port}", reactor=reactor)
        self.api = api
        self.max_in_flight = group.max_in_flight
        self.idle_timeout = group.idle_timeout
        self.max_send_backlog = MAX_SEND_BACKLOG
        self.connections: set[MessagingProtocol] = set()
        self.setProtocolOptions(
            maxFramePayloadSize=group.max_frame_size,
            maxMessagePayloadSize=group.max_frame_size,
            autoPingInterval=group.ping_interval or None,
            autoPingTimeout=group.ping_timeout,
            openHandshakeTimeout=10,
            closeHandshakeTimeout=group.close_timeout,
            # Fail a connection with a close frame naming why (1009 for a frame over
            # max_frame_size, 1002, 1007), not by dropping TCP with no code at all.
            failByDrop=False,
        )
        self.runner = BlockingCallRunner(reactor, group.thread_pool_size, "zaqar-websocket")
        self.push = PushHub(api, conf, reactor, self.runner)
        self.waits = WebsocketWaits(api, conf, reactor)  # long polls (wait=N)
        self._idle_check = task.LoopingCall(self._close_idle)
        self._idle_check.clock = reactor

    def start(self) -> None:
        if self.api.access.keystone:
            # Now, not at the first authenticate (importing keystonemiddleware is slow),
            # and a bad [keystone_authtoken] stops the server at once.
            self.api.access.token_validator()
        self.runner.start()
        self.push.start()
        if self.idle_timeout:
            self._idle_check.start(min(self.idle_timeout, 30), now=False)

    def stop(self) -> None:
        self.push.stop()
        self.waits.stop()
        if self._idle_check.running:
            self._idle_check.stop()
        self.runner.stop()

    def _close_idle(self) -> None:
        cutoff = time.monotonic() - self.idle_timeout
        for connection in list(self.connections):
            if connection.last_request < cutoff and not connection.subscriptions \
                    and not connection.in_flight:
                connection.sendClose(CLOSE_IDLE, "idle timeout")
