"""zaqar.jsoncodec.dumps: orjson's speed, the standard library's results."""
import json

import pytest

from zaqar import jsoncodec


@pytest.mark.parametrize("document", [
    {"messages": [{"body": {"event": "x" * 80, "n": 1}, "ttl": 300}]},
    {"nested": [[], {}, [1.5, -0.0, 1e300], None, True, False, ""]},
    {"unicode": "zaqar ✉ é 日本"},
    # What orjson refuses: the standard library writes it.
    {"big": 2 ** 70, "negative": -(2 ** 64)},
    {1: "integer key", "k": [2 ** 100]},
    {"lone": "\ud800"},  # escaped, as before
], ids=["post", "json-types", "unicode", "integers-past-64-bits", "non-string-keys",
        "lone-surrogate"])
def test_dumps_decodes_to_what_the_standard_library_gives(document):
    encoded = jsoncodec.dumps(document)
    assert isinstance(encoded, bytes)
    assert json.loads(encoded) == json.loads(json.dumps(document))


@pytest.mark.parametrize("document", [{"bytes": b"raw"}, {"set": {1}}])
def test_what_neither_encodes_raises_as_the_standard_library_does(document):
    with pytest.raises((TypeError, ValueError)) as ours:
        jsoncodec.dumps(document)
    with pytest.raises((TypeError, ValueError)) as theirs:
        json.dumps(document).encode()
    assert type(ours.value) is type(theirs.value)
