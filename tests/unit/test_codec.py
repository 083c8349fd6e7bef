"""zaqar.codec: one decoder, one set of limits and one error wording for REST bodies and
websocket frames, JSON and MsgPack alike."""
import json

import msgpack
import pytest

from zaqar import codec
from zaqar.api.errors import BadRequest, NotFound, Unexpected
from zaqar.api.validation import MAX_DOCUMENT_DEPTH

TOO_DEEP = f"The request nests arrays and objects more than {MAX_DOCUMENT_DEPTH} levels deep."


def nested_json(depth: int) -> bytes:
    return b"[" * depth + b"1" + b"]" * depth


def nested_msgpack(depth: int) -> bytes:
    return b"\x91" * depth + b"\x01"


def refusal(payload: bytes, binary: bool, outer_levels: int = 0) -> codec.DocumentRefused:
    with pytest.raises(codec.DocumentRefused) as caught:
        codec.decode(payload, binary, outer_levels)
    assert isinstance(caught.value, BadRequest) and caught.value.status == 400
    return caught.value


@pytest.mark.parametrize("binary", [False, True], ids=["json", "msgpack"])
def test_documents_up_to_the_depth_limit_decode(binary):
    payload = nested_msgpack(MAX_DOCUMENT_DEPTH) if binary else nested_json(MAX_DOCUMENT_DEPTH)
    document = codec.decode(payload, binary)
    for _ in range(MAX_DOCUMENT_DEPTH):
        [document] = document
    assert document == 1


@pytest.mark.parametrize("depth", [MAX_DOCUMENT_DEPTH + 1, 3000, 200000])
@pytest.mark.parametrize("binary", [False, True], ids=["json", "msgpack"])
def test_any_depth_past_the_limit_is_one_bad_request(binary, depth):
    """Past the decoders' own limits (RecursionError near 1,000 levels, msgpack's
    StackError at 1,024) too: the same error, never another exception."""
    payload = nested_msgpack(depth) if binary else nested_json(depth)
    error = refusal(payload, binary)
    assert error.description == TOO_DEEP


def test_unclosed_brackets_past_the_recursion_limit_are_too_deep():
    assert refusal(b"[" * 200000, False).description == TOO_DEEP


def test_outer_levels_let_a_wrapper_nest_that_much_deeper():
    payload = nested_json(MAX_DOCUMENT_DEPTH + 1)
    assert codec.decode(payload, False, outer_levels=1)
    refusal(nested_json(MAX_DOCUMENT_DEPTH + 2), False, outer_levels=1)


def test_a_refused_document_carries_what_was_decoded():
    document = {"body": json.loads(nested_json(MAX_DOCUMENT_DEPTH))}
    error = refusal(json.dumps(document).encode(), False)
    assert error.document == document
    assert refusal(b"{not json", False).document is None


@pytest.mark.parametrize("number", [-(2 ** 63) - 1, 2 ** 63, 2 ** 64, 2 ** 100])
def test_integers_outside_the_signed_64_bit_range_are_refused_in_json(number):
    error = refusal(json.dumps({"messages": [{"body": number}]}).encode(), False)
    assert "signed 64-bit range" in error.description


def test_msgpack_uint64_past_the_signed_range_is_refused():
    error = refusal(msgpack.packb({"body": [2 ** 63]}), True)
    assert "signed 64-bit range" in error.description


@pytest.mark.parametrize("binary", [False, True], ids=["json", "msgpack"])
def test_integers_at_the_edges_and_long_digit_strings_pass(binary):
    document = {"low": -(2 ** 63), "high": 2 ** 63 - 1, "text": "1" * 40, "float": 1.5e300}
    payload = msgpack.packb(document) if binary else json.dumps(document).encode()
    assert codec.decode(payload, binary) == document


@pytest.mark.parametrize("payload, binary, title", [
    (b'{"a": ', False, "Malformed JSON"),
    (b"\xff\xfe", False, "Malformed JSON"),
    (b"\xc1", True, "Malformed MsgPack"),
    (msgpack.packb({"a": 1})[:-1], True, "Malformed MsgPack"),
    (msgpack.packb(1) + msgpack.packb(2), True, "Malformed MsgPack"),
], ids=["truncated-json", "not-utf8", "reserved-msgpack-byte", "truncated-msgpack",
        "extra-msgpack-data"])
def test_malformed_payloads_are_one_bad_request_per_encoding(payload, binary, title):
    error = refusal(payload, binary)
    assert error.title == title
    assert error.description == f"The request is not valid {title.split()[1]}."


def test_encode_raises_what_msgpack_cannot_carry():
    with pytest.raises(codec.ENCODE_ERRORS):
        codec.encode({"big": 2 ** 64}, binary=True)
    assert json.loads(codec.encode({"big": 2 ** 64}, binary=False)) == {"big": 2 ** 64}


@pytest.mark.parametrize("error", [BadRequest("Bad thing.", "Bad"), NotFound("Gone."),
                                   Unexpected()])
def test_error_body_is_title_and_description(error):
    assert codec.error_body(error) == {"title": error.title, "description": error.description}
    assert json.loads(codec.encode_error(error)) == codec.error_body(error)
