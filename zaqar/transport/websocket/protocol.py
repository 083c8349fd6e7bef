"""One websocket connection: decode frames, run actions off the reactor, reply."""
from __future__ import annotations

import logging
import time
import uuid
from typing import TYPE_CHECKING, Any

from autobahn.twisted.websocket import WebSocketServerProtocol
from twisted.internet.interfaces import IPushProducer
from zope.interface import implementer

from zaqar import codec
from zaqar.api import Request, errors
from zaqar.auth.credentials import Credentials
from zaqar.auth.signed_url import SignedHeaders
from zaqar.transport.websocket import frames, replies
from zaqar.transport.websocket.long_poll import Held
from zaqar.transport.websocket.session import ConnectionAuth

if TYPE_CHECKING:
    from zaqar.transport.websocket.factory import MessagingServerFactory

LOG = logging.getLogger(__name__)

# Close codes this server uses (RFC 6455 section 7.4; 4000-4999 are ours).
CLOSE_NORMAL = 1000
CLOSE_GOING_AWAY = 1001  # server shutting down
CLOSE_PROTOCOL_ERROR = frames.CLOSE_PROTOCOL_ERROR  # 1002, e.g. a close code not allowed
CLOSE_INVALID_PAYLOAD = frames.CLOSE_INVALID_PAYLOAD  # 1007: text or close reason not UTF-8
CLOSE_TOO_BIG = 1009  # frame over max_frame_size (sent by Autobahn itself)
CLOSE_IDLE = 4000  # no request for idle_timeout seconds and no live subscription
CLOSE_PING_TIMEOUT = 4001  # no pong within ping_timeout
CLOSE_AUTH_EXPIRED = 4003  # the token of the connection's authenticate expired (upstream's)
CLOSE_TOO_SLOW = 4008  # the peer left more than MAX_SEND_BACKLOG bytes unread

# What the server keeps for a peer that reads slower than frames are sent (a subscriber
# that never reads while posts go on, a client that does not read its replies): beyond
# the transport's own write buffer (64 KiB), at most this many bytes wait for it, then
# it is closed with CLOSE_TOO_SLOW and dropped once the close handshake times out. It
# exceeds one largest reply (a page of 20 messages of 256 KiB), so a client that reads
# each reply is never cut off.
MAX_SEND_BACKLOG = 8 * 1024 * 1024

# Actions the transport answers itself: they concern the connection, not storage.
_CONNECTION_ACTIONS = frozenset({"authenticate"})


# Subscribing without a subscriber subscribes the connection itself (server push).
_PUSHED = frozenset({"subscription_create", "topic_subscription_create"})

class MessagingProtocol(WebSocketServerProtocol):  # type: ignore[misc]
    factory: MessagingServerFactory

    def onConnect(self, request: Any) -> None:
        self.connection_id = uuid.uuid4().hex
        self.in_flight = 0
        self.paused = False
        self.last_request = time.monotonic()
        self.subscriptions: set[str] = set()  # ids of the websocket subscriptions it holds
        self.auth = ConnectionAuth(self.factory.reactor, self._auth_expired)

    def onOpen(self) -> None:
        self.factory.connections.add(self)
        self.backlog = SendBacklog()
        self.registerProducer(self.backlog, True)

    def onClose(self, wasClean: bool, code: int | None, reason: str | None) -> None:
        self.factory.connections.discard(self)
        self.factory.waits.drop(self)
        if hasattr(self, "auth"):
            self.auth.clear()
        if getattr(self, "subscriptions", None):
            self.factory.push.drop_connection(self)

    def onMessage(self, payload: bytes, isBinary: bool) -> None:
        self.last_request = time.monotonic()
        request = None
        try:
            request = codec.decode(payload, isBinary, frames.ENVELOPE_LEVELS)
            envelope = frames.parse_envelope(request)
        except codec.DocumentRefused as error:
            self.send(replies.error_reply(error.document, error), isBinary)
            return
        except errors.ApiError as error:
            self.send(replies.error_reply(request, error), isBinary)
            return
        if envelope.action in _CONNECTION_ACTIONS:
            self._authenticate(envelope, isBinary)
            return
        request = Request(project=envelope.header("X-Project-ID"),
                          client_id=envelope.header("Client-ID"),
                          params=envelope.body, body_size=len(payload),
                          credentials=self.auth.credentials,
                          signature=SignedHeaders.from_headers(envelope.header))
        if envelope.action in _PUSHED and not envelope.body.get("subscriber"):
            request.push_subscriber = f"websocket:{self.connection_id}"
        self._begin()
        self._submit(envelope, request, isBinary, None)

    def _submit(self, envelope: frames.Envelope, request: Request, binary: bool,
                held: Held | None) -> None:
        """Run the action off the reactor; ``held``: a long poll running again."""
        self.factory.runner.submit(self._run, (envelope.action, request, binary),
                                   lambda response, error: self._finish(
                                       envelope, binary, response, error, request, held))

    def _run(self, action: str, request: Request, binary: bool) -> Any:
        """In a runner thread: the action, and for a websocket subscription its listener."""
        response = self.factory.api.dispatch(action, request)
        if request.push_subscriber and response.status == 201:
            self.factory.push.subscribe(self, self.factory.api.scope(action, request),
                                        response.body["subscription_id"], binary,
                                        topic=action == "topic_subscription_create")
        return response

    def _authenticate(self, envelope: frames.Envelope, binary: bool) -> None:
        """``authenticate``: with Keystone on, validate the X-Auth-Token of its headers
        (off the reactor); the connection then acts with that token's identity until it
        expires (close code CLOSE_AUTH_EXPIRED). With authentication off: 200."""
        if not self.factory.api.access.keystone:
            self.send(replies.reply(replies.AUTHENTICATE_REQUEST, 200, replies.AUTHENTICATED),
                      binary)
            return
        self.auth.clear()
        self._begin()
        self.factory.runner.submit(
            self.factory.api.access.authenticate,
            (envelope.header("X-Auth-Token"),
             envelope.header("X-Project-ID")),
            lambda credentials, error: self._authenticated(envelope, binary, credentials,
                                                           error))

    def _authenticated(self, envelope: frames.Envelope, binary: bool,
                       credentials: Credentials | None, error: BaseException | None) -> None:
        self._end()
        if error is not None:
            self._fail(envelope, binary, error, replies.AUTHENTICATE_REQUEST)
        elif self.state == WebSocketServerProtocol.STATE_OPEN:  # not closed meanwhile
            self.auth.set(credentials)
            self.send(replies.reply(replies.AUTHENTICATE_REQUEST, 200, replies.AUTHENTICATED),
                      binary)

    def _auth_expired(self) -> None:
        self.sendClose(CLOSE_AUTH_EXPIRED, "Authentication expired.")

    def _finish(self, envelope: frames.Envelope, binary: bool, response: Any,
                error: BaseException | None, request: Request | None = None,
                held: Held | None = None) -> None:
        if request is not None:  # a claim or listing with nothing yet may wait for it
            answered = response if error is None and self.state == self.STATE_OPEN else None
            if self.factory.waits.park_if_waiting(
                    self, envelope.action, request, answered, held,
                    lambda again: self._submit(envelope, request, binary, again)):
                return
        self._end()
        if error is not None:
            self._fail(envelope, binary, error)
        else:
            self.send(replies.action_reply(envelope.raw, envelope.action, envelope.body,
                                           response.status, response.body), binary)

    def _fail(self, envelope: frames.Envelope, binary: bool, error: BaseException,
              echoed: Any = None) -> None:
        if not isinstance(error, errors.ApiError):
            LOG.error("Unexpected error in %s", envelope.action,
                      exc_info=(type(error), error, error.__traceback__))
            error = errors.Unexpected()
        self.send(replies.error_reply(envelope.raw if echoed is None else echoed, error),
                  binary)

    def go_away(self) -> Any:
        """Close with 1001 (the server is shutting down). Autobahn's sendClose refuses
        codes below 3000 but 1000, so the close frame is sent at the protocol level.
        Returns a Deferred that fires once the connection is closed."""
        if self.state == WebSocketServerProtocol.STATE_OPEN:
            self.sendCloseFrame(CLOSE_GOING_AWAY, b"server shutting down")
        return self.is_closed

    def onCloseFrame(self, code: int | None, reasonRaw: bytes | None) -> bool | None:
        """A close frame from the peer: one RFC 6455 does not allow (close code 999, 1005,
        5000, a reason that is not UTF-8, a 1-byte payload) is answered with a 1002 or
        1007 close. Autobahn would take the peer's frame for the answer to its own and
        abort the TCP connection, discarding that close unsent: here the connection ends
        once it has gone out."""
        if self.state == WebSocketServerProtocol.STATE_OPEN:
            refusal = frames.close_frame_refusal(code, reasonRaw)
            if refusal is not None:
                self._fail_connection(*refusal)
        if self.state == WebSocketServerProtocol.STATE_CLOSING and self.failedByMe:
            self.dropConnection(abort=False)
            return True
        return super().onCloseFrame(code, reasonRaw)  # type: ignore[no-any-return]

    def send(self, document: Any, binary: bool) -> None:
        """Send a reply or push frame in the given encoding. A reply the encoding cannot
        carry is replaced by an error reply (every request gets exactly one reply); such
        a push frame is dropped, with a warning."""
        if self.state != WebSocketServerProtocol.STATE_OPEN:
            return
        try:
            payload = codec.encode(document, binary)
        except codec.ENCODE_ERRORS as error:
            LOG.warning("A %s frame could not be encoded: %s",
                        document.get("action") or "reply", error)
            if "request" not in document:
                return
            payload = codec.encode(replies.error_reply(document["request"],
                                                       replies.UnencodableReply()), binary)
        if self.backlog.add(len(payload)) > self.factory.max_send_backlog:
            LOG.warning("Closing the connection of %s: more than %d bytes sent to it are "
                        "still unread", self.peer, self.factory.max_send_backlog)
            self._fail_connection(CLOSE_TOO_SLOW, "too slow: frames left unread")
            return
        # One frame, at the protocol level: Autobahn's sendMessage would hold replies and
        # pushes to maxMessagePayloadSize, the limit of what clients send (max_frame_size),
        # and raise for a page of large messages instead of sending it.
        self.sendFrame(opcode=2 if binary else 1, payload=payload)

    def onAutoPingTimeout(self) -> None:
        """No pong in time: a close frame first (Autobahn would only drop TCP); the
        connection is dropped when the close handshake times out."""
        self.autoPingTimeoutCall = None
        self._fail_connection(CLOSE_PING_TIMEOUT, "ping timeout")

    # Backpressure: stop reading a connection that has too many requests in progress.
    def _begin(self) -> None:
        self.in_flight += 1
        if self.in_flight >= self.factory.max_in_flight and not self.paused:
            self.paused = True
            self.transport.pauseProducing()

    def _end(self) -> None:
        self.in_flight -= 1
        if self.paused and self.in_flight < self.factory.max_in_flight:
            self.paused = False
            self.transport.resumeProducing()


@implementer(IPushProducer)
class SendBacklog:
    """Counts the bytes sent to a connection while its transport's write buffer is full:
    the transport pauses this producer when the buffer passes its size and resumes it
    once the buffer is empty again."""

    def __init__(self) -> None:
        self.full = False
        self.unread = 0  # bytes sent since the buffer was last found full

    def add(self, size: int) -> int:
        """Count ``size`` bytes about to be sent; returns the bytes now waiting beyond the
        transport's buffer."""
        if self.full:
            self.unread += size
        return self.unread

    def pauseProducing(self) -> None:
        self.full = True

    def resumeProducing(self) -> None:
        self.full = False
        self.unread = 0

    def stopProducing(self) -> None:
        self.full = False
