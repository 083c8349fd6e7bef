"""Request documents in, replies and errors out: the one codec of both transports.

REST bodies and websocket text frames are JSON, websocket binary frames MsgPack. Every
decoded request document passes the same two limits, with one wording whichever
transport and encoding brought it:

- arrays and objects nest at most ``MAX_DOCUMENT_DEPTH`` levels (the api layer's limit).
  Python's JSON decoder gives up with RecursionError near a thousand levels and
  MsgPack's with StackError at 1,024; both become the same 400 as a document of 101
  levels, so no depth ever ends a connection instead of a reply;
- integers lie in the signed 64-bit range, as upstream Zaqar's REST API requires. MsgPack
  cannot encode integers past 64 bits at all, so a message accepted with one could not
  be read over a MsgPack websocket later.

JSON integers are checked as they are parsed, and only numbers of 19 digits or more can
be out of range. The depth is checked by a walk of the decoded document, and only when a
scan of the raw bytes says it may be too deep (more brackets, or MsgPack container
headers, than the limit); a MsgPack document is walked for integers only when it holds
a uint64. Ordinary requests pay for neither walk. The api layer's validation then sees
only documents within these limits.
"""
import json
from typing import Any

import msgpack

from zaqar import jsoncodec
from zaqar.api.errors import ApiError, BadRequest
from zaqar.api.validation import MAX_DOCUMENT_DEPTH

MIN_INTEGER = -(2 ** 63)
MAX_INTEGER = 2 ** 63 - 1

# What encoding a reply raises for a value it cannot carry (MsgPack: an integer past
# 64 bits; either: a type with no JSON or MsgPack form).
ENCODE_ERRORS = (OverflowError, TypeError, ValueError)

_DECODE_ERRORS = (ValueError, msgpack.ExtraData, msgpack.FormatError, UnicodeDecodeError,
                  TypeError)
# Every byte that cannot start a MsgPack array or map: deleted, what is left bounds the
# number of containers, and so their depth.
_NOT_MSGPACK_CONTAINER = bytes(byte for byte in range(256)
                               if not (0x80 <= byte <= 0x9F or 0xDC <= byte <= 0xDF))
_MSGPACK_UINT64 = b"\xcf"


class DocumentRefused(BadRequest):
    """A request the codec refuses. ``document`` is what was decoded of it (None when
    nothing could be), for a transport that echoes requests in its replies."""

    def __init__(self, description: str, title: str | None = None,
                 document: Any = None) -> None:
        super().__init__(description, title)
        self.document = document


def too_deep(document: Any = None) -> DocumentRefused:
    return DocumentRefused(f"The request nests arrays and objects more than "
                           f"{MAX_DOCUMENT_DEPTH} levels deep.", document=document)


def integer_out_of_range(document: Any) -> DocumentRefused:
    return DocumentRefused(f"The request holds an integer outside the signed 64-bit "
                           f"range ({MIN_INTEGER} to {MAX_INTEGER}).", document=document)


def malformed(kind: str) -> DocumentRefused:
    return DocumentRefused(f"The request is not valid {kind}.", f"Malformed {kind}")


class _IntegerOutOfRange(Exception):
    """Raised from inside the JSON decoder, which would take a ValueError for bad JSON."""


def _checked_int(text: str) -> int:
    value = int(text)
    if len(text) > 18 and not MIN_INTEGER <= value <= MAX_INTEGER:
        raise _IntegerOutOfRange
    return value


_JSON_DECODER = json.JSONDecoder(parse_int=_checked_int)


def decode_json(payload: bytes, outer_levels: int = 0) -> Any:
    """The JSON document (UTF-8) of a REST body or websocket text frame. ``outer_levels``: the
    levels of nesting the transport wraps around the request document (a websocket
    frame holds it under ``body``: 1), allowed on top of the limit.

    Raises DocumentRefused (a BadRequest): not JSON (UTF-8), nested too deep, an integer
    out of range.
    """
    try:
        document = _JSON_DECODER.decode(payload.decode())
    except RecursionError:
        raise too_deep() from None
    except (ValueError, UnicodeDecodeError):
        raise malformed("JSON") from None
    except _IntegerOutOfRange:
        # Decoded again unchecked (only on this error path) for the transport to echo.
        raise integer_out_of_range(json.loads(payload)) from None
    if payload.count(b"[") + payload.count(b"{") > MAX_DOCUMENT_DEPTH:
        check_limits(document, outer_levels)
    return document


def decode_msgpack(payload: bytes, outer_levels: int = 0) -> Any:
    """The MsgPack document of a websocket binary frame (``outer_levels`` as for
    :func:`decode_json`). msgpack's own limits apply first: lengths bounded by the
    payload's, nesting by its 1,024-level stack.

    Raises DocumentRefused (a BadRequest): not MsgPack, nested too deep, an integer out
    of range.
    """
    try:
        document = msgpack.unpackb(payload, raw=False, strict_map_key=False)
    except msgpack.StackError:
        raise too_deep() from None
    except _DECODE_ERRORS:
        raise malformed("MsgPack") from None
    if (len(payload.translate(None, _NOT_MSGPACK_CONTAINER)) > MAX_DOCUMENT_DEPTH
            or _MSGPACK_UINT64 in payload):
        check_limits(document, outer_levels)
    return document


def decode(payload: bytes, binary: bool, outer_levels: int = 0) -> Any:
    if binary:
        return decode_msgpack(payload, outer_levels)
    return decode_json(payload, outer_levels)


def check_limits(document: Any, outer_levels: int = 0) -> None:
    """Raises DocumentRefused when ``document`` nests deeper than MAX_DOCUMENT_DEPTH (plus
    ``outer_levels``) or holds an integer outside the signed 64-bit range. Level by
    level, without recursion."""
    limit = MAX_DOCUMENT_DEPTH + outer_levels
    depth, level = 0, [document]
    while True:
        nested: list[Any] = []
        has_containers = False
        for node in level:
            kind = type(node)
            if kind is dict:
                has_containers = True
                nested.extend(node.values())
            elif kind is list:
                has_containers = True
                nested.extend(node)
            elif kind is int and not MIN_INTEGER <= node <= MAX_INTEGER:
                raise integer_out_of_range(document)
        if not has_containers:
            return
        depth += 1
        if depth > limit:
            raise too_deep(document)
        level = nested


def encode_json(document: Any) -> bytes:
    return jsoncodec.dumps(document)


def encode(document: Any, binary: bool) -> bytes:
    """Raises one of ENCODE_ERRORS for what the encoding cannot carry."""
    if binary:
        return msgpack.packb(document, use_bin_type=True)
    return jsoncodec.dumps(document)


def error_body(error: ApiError) -> dict[str, str]:
    """The error document every transport answers: ``{"title", "description"}``."""
    return {"title": error.title, "description": error.description}


def encode_error(error: ApiError) -> bytes:
    return jsoncodec.dumps(error_body(error))
