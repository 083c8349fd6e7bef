"""Validation, limits and defaults of zaqar/api/validation.py."""
import hashlib
import json

import pytest

from tests.conftest import make_conf
from zaqar.api.errors import BadRequest
from zaqar.api.validation import MAX_ID, MAX_PROJECT_ID, Validator
from zaqar.storage.base import NewMessage

CLIENT = "3381af92-2b9e-11e3-b191-71861300734c"


@pytest.fixture
def make_validator(tmp_path):
    def make(enable_checksum: bool = False, **transport: object) -> Validator:
        conf = make_conf(tmp_path, DEFAULT={"enable_checksum": enable_checksum},
                         transport=transport)
        return Validator(conf)
    return make


@pytest.fixture
def validate(make_validator) -> Validator:
    return make_validator()


# -- queue names ------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["q", "a-b_C9", "x" * 64])
def test_valid_queue_names_are_returned(validate, name):
    assert validate.queue_name(name) == name


@pytest.mark.parametrize("name", [None, "", 42, ["q"]])
def test_missing_queue_name_names_the_field(validate, name):
    with pytest.raises(BadRequest, match="queue_name"):
        validate.queue_name(name)


def test_queue_name_error_names_the_field_it_came_from(validate):
    with pytest.raises(BadRequest, match="_dead_letter_queue"):
        validate.queue_name(None, "_dead_letter_queue")


def test_queue_name_longer_than_64_characters_is_refused(validate):
    with pytest.raises(BadRequest, match="more than 64 characters"):
        validate.queue_name("x" * 65)


@pytest.mark.parametrize("name", ["has space", "dot.ted", "slash/ed", "ünïcode", "q\n"])
def test_queue_name_with_other_characters_is_refused(validate, name):
    with pytest.raises(BadRequest, match="ASCII letters, digits"):
        validate.queue_name(name)


# -- project id -----------------------------------------------------------------------

def test_project_id_is_returned_when_valid():
    assert Validator.project_id("project-a") == "project-a"
    assert Validator.project_id("p" * MAX_PROJECT_ID) == "p" * MAX_PROJECT_ID


def test_missing_project_id_says_so():
    with pytest.raises(BadRequest) as caught:
        Validator.project_id(None)
    assert caught.value.title == "Project-Id Missing"


@pytest.mark.parametrize("project", ["", "p" * (MAX_PROJECT_ID + 1), "tab\there", "nl\n"])
def test_empty_long_or_unprintable_project_id_is_refused(project):
    with pytest.raises(BadRequest, match="X-PROJECT-ID"):
        Validator.project_id(project)


# -- client id ----------------------------------------------------------------------------

@pytest.mark.parametrize("client_id", [CLIENT, CLIENT.replace("-", ""), CLIENT.upper()])
def test_strict_client_id_accepts_uuids(validate, client_id):
    assert validate.client_id(client_id) == client_id


@pytest.mark.parametrize("client_id", [None, ""])
def test_missing_client_id_says_so(validate, client_id):
    with pytest.raises(BadRequest) as caught:
        validate.client_id(client_id)
    assert caught.value.title == "Missing header"


@pytest.mark.parametrize("client_id", ["not-a-uuid", "a" * 36, CLIENT[:-1]])
def test_strict_client_id_refuses_anything_but_a_uuid(validate, client_id):
    with pytest.raises(BadRequest) as caught:
        validate.client_id(client_id)
    assert caught.value.title == "Malformed Client-ID"


@pytest.mark.parametrize("client_id", ["a" * 10, "any string", "a" * 36, CLIENT])
def test_client_id_off_accepts_strings_within_the_lengths(make_validator, client_id):
    validate = make_validator(client_id_uuid_safe="off")
    assert validate.client_id(client_id) == client_id


@pytest.mark.parametrize("client_id", ["a" * 9, "a" * 37])
def test_client_id_off_refuses_strings_outside_the_lengths(make_validator, client_id):
    validate = make_validator(client_id_uuid_safe="off")
    with pytest.raises(BadRequest, match="10 to 36 characters"):
        validate.client_id(client_id)


def test_client_id_off_follows_configured_lengths(make_validator):
    validate = make_validator(client_id_uuid_safe="off", min_length_client_id=2,
                              max_length_client_id=4)
    assert validate.client_id("ab") == "ab"
    with pytest.raises(BadRequest, match="2 to 4 characters"):
        validate.client_id("abcde")


# -- resource ids -----------------------------------------------------------------------

def test_resource_id_is_returned_when_valid():
    assert Validator.resource_id({"claim_id": "abc"}, "claim_id") == "abc"


@pytest.mark.parametrize("value", [None, "", 7, "x" * (MAX_ID + 1)])
def test_invalid_resource_id_names_its_key(value):
    with pytest.raises(BadRequest, match="message_id"):
        Validator.resource_id({"message_id": value}, "message_id")


@pytest.mark.parametrize("value", ["-1", "not-an-id", "x" * (MAX_ID + 1)])
def test_named_id_takes_any_non_empty_string(value):
    assert Validator.named_id({"message_id": value}, "message_id") == value


@pytest.mark.parametrize("value", [None, "", 7, ["1"]])
def test_named_id_refuses_what_is_no_id_and_names_its_key(value):
    with pytest.raises(BadRequest, match="claim_id"):
        Validator.named_id({"claim_id": value}, "claim_id")


# -- query_int vs document_int ----------------------------------------------------------

@pytest.mark.parametrize(("value", "expected"), [("5", 5), (5, 5), ("1", 1), ("20", 20)])
def test_query_int_takes_text_or_integers(value, expected):
    assert Validator.query_int({"limit": value}, "limit", 10, 1, 20) == expected


def test_query_int_defaults_when_absent():
    assert Validator.query_int({}, "limit", 10, 1, 20) == 10
    assert Validator.query_int({"limit": None}, "limit", 10, 1, 20) == 10


@pytest.mark.parametrize("value", ["0", "21", 0, 21, "-1", "abc", "", "5.0", 5.0, True,
                                   "9999999999", [5]])
def test_query_int_refuses_non_integers_and_out_of_range(value):
    with pytest.raises(BadRequest, match="limit must be an integer from 1 to 20"):
        Validator.query_int({"limit": value}, "limit", 10, 1, 20)


def test_document_int_takes_json_integers_and_defaults():
    assert Validator.document_int({"ttl": 120}, "ttl", 300, 60, 3600) == 120
    assert Validator.document_int({}, "ttl", 300, 60, 3600) == 300


@pytest.mark.parametrize("value", ["120", 120.0, True, None, 59, 3601])
def test_document_int_refuses_text_other_types_and_out_of_range(value):
    with pytest.raises(BadRequest, match="ttl must be an integer from 60 to 3600"):
        Validator.document_int({"ttl": value}, "ttl", 300, 60, 3600)


# -- flags and markers ------------------------------------------------------------------

@pytest.mark.parametrize("value", [True, "true", "True", "TRUE", "1", "yes", "on"])
def test_flag_reads_true(value):
    assert Validator.flag({"echo": value}, "echo") is True


@pytest.mark.parametrize("value", [False, "false", "False", "0", "no", "off"])
def test_flag_reads_false(value):
    assert Validator.flag({"echo": value}, "echo", default=True) is False


def test_flag_defaults_when_absent():
    assert Validator.flag({}, "echo") is False
    assert Validator.flag({"echo": None}, "echo", default=True) is True


@pytest.mark.parametrize("value", ["maybe", "", 1, 0, [True]])
def test_flag_refuses_anything_else(value):
    with pytest.raises(BadRequest, match="echo must be true or false"):
        Validator.flag({"echo": value}, "echo")


def test_marker_is_optional_and_bounded():
    assert Validator.marker({}) is None
    assert Validator.marker({"marker": ""}) is None
    assert Validator.marker({"marker": "q-7"}) == "q-7"
    assert Validator.marker({"marker": "m" * 256}) == "m" * 256
    for value in ("m" * 257, 7):
        with pytest.raises(BadRequest, match="marker"):
            Validator.marker({"marker": value})


# -- id lists -------------------------------------------------------------------------

def test_id_list_is_none_when_absent(validate):
    assert validate.id_list({}, "message_ids") is None


def test_id_list_takes_a_list(validate):
    assert validate.id_list({"message_ids": ["a", "b"]}, "message_ids") == ["a", "b"]


def test_id_list_splits_a_comma_string_and_drops_empty_items(validate):
    assert validate.id_list({"message_ids": "a,b,,c,"}, "message_ids") == ["a", "b", "c"]


@pytest.mark.parametrize("value", ["", ",,", [], ["a", ""], ["a", 7], {"a": 1}, 7])
def test_id_list_refuses_empty_or_malformed_lists(validate, value):
    with pytest.raises(BadRequest, match="message_ids must be a non-empty list of ids"):
        validate.id_list({"message_ids": value}, "message_ids")


def test_id_list_takes_ids_of_any_form_and_length(validate):
    """Ids we could never have issued name nothing (not found), they are no bad request."""
    ids = ["-1", "5f0a5f0a5f0a5f0a5f0a5f0a", "x" * (MAX_ID + 1)]
    assert validate.id_list({"message_ids": ids}, "message_ids") == ids


def test_id_list_allows_up_to_max_messages_per_page(validate):
    ids = [f"id{n}" for n in range(20)]
    assert validate.id_list({"message_ids": ids}, "message_ids") == ids
    assert validate.id_list({"message_ids": ",".join(ids)}, "message_ids") == ids


def test_id_list_refuses_more_than_max_messages_per_page(make_validator):
    validate = make_validator(max_messages_per_page=3)
    with pytest.raises(BadRequest, match="No more than 3 ids"):
        validate.id_list({"claim_ids": "a,b,c,d"}, "claim_ids")


# -- queue metadata -----------------------------------------------------------------

def test_metadata_defaults_to_empty(validate):
    assert validate.metadata(None) == {}


def test_metadata_is_returned_when_valid(validate):
    meta = {"description": "orders", "_default_message_ttl": 120, "nested": {"x": [1]}}
    assert validate.metadata(meta) == meta


@pytest.mark.parametrize("value", [[], "text", 7])
def test_metadata_must_be_an_object(validate, value):
    with pytest.raises(BadRequest, match="must be a JSON object"):
        validate.metadata(value)


def test_metadata_size_is_measured_as_json_when_not_given(make_validator):
    validate = make_validator(max_queue_metadata=30)
    fits = {"k": "v" * 20}
    assert len(json.dumps(fits)) <= 30
    assert validate.metadata(fits) == fits
    with pytest.raises(BadRequest, match="Queue metadata is too large"):
        validate.metadata({"k": "v" * 30})


def test_metadata_size_given_by_the_transport_wins(make_validator):
    validate = make_validator(max_queue_metadata=30)
    with pytest.raises(BadRequest, match="31 bytes; the most is 30"):
        validate.metadata({"k": "v"}, size=31)


@pytest.mark.parametrize(("key", "value"), [
    ("_default_message_ttl", 60), ("_default_message_ttl", 1209600),
    ("_default_message_delay", 0), ("_default_message_delay", 900),
    ("_max_messages_post_size", 1), ("_max_messages_post_size", 262144),
])
def test_reserved_metadata_within_limits_is_accepted(validate, key, value):
    assert validate.metadata({key: value}) == {key: value}


@pytest.mark.parametrize(("key", "value"), [
    ("_default_message_ttl", 59), ("_default_message_ttl", 1209601),
    ("_default_message_ttl", "120"), ("_default_message_delay", -1),
    ("_default_message_delay", 901), ("_max_messages_post_size", 0),
    ("_max_messages_post_size", 262145),
])
def test_reserved_metadata_outside_limits_is_refused(validate, key, value):
    with pytest.raises(BadRequest, match=key):
        validate.metadata({key: value})


def test_reserved_metadata_limits_follow_the_configuration(make_validator):
    validate = make_validator(max_message_ttl=600)
    with pytest.raises(BadRequest, match="from 60 to 600"):
        validate.metadata({"_default_message_ttl": 601})


UPSTREAM_DEFAULTS = {"_dead_letter_queue": None, "_dead_letter_queue_messages_ttl": None,
                     "_max_claim_count": None, "_enable_encrypt_messages": False}


def test_defaults_of_features_not_delivered_are_accepted(validate):
    # What upstream's GET shows: clients patch it back.
    assert validate.metadata(dict(UPSTREAM_DEFAULTS)) == UPSTREAM_DEFAULTS


def test_dead_letter_and_encryption_metadata_are_accepted(validate):
    metadata = {"_dead_letter_queue": "dlq", "_max_claim_count": 0,
                "_dead_letter_queue_messages_ttl": 60, "_enable_encrypt_messages": True}
    assert validate.metadata(dict(metadata), queue="q") == metadata


@pytest.mark.parametrize(("metadata", "fragment"), [
    ({"_dead_letter_queue": "q"}, "may not be the queue itself"),
    ({"_dead_letter_queue": 1}, "_dead_letter_queue"),
    ({"_max_claim_count": -1}, "_max_claim_count must be an integer from 0"),
    ({"_dead_letter_queue_messages_ttl": 59}, "from 60 to 1209600"),
])
def test_bad_dead_letter_metadata_is_refused(validate, metadata, fragment):
    with pytest.raises(BadRequest, match=fragment):
        validate.metadata(metadata, queue="q")


def test_enable_encrypt_messages_must_be_a_boolean(validate):
    with pytest.raises(BadRequest, match="_enable_encrypt_messages must be true or false"):
        validate.metadata({"_enable_encrypt_messages": "true"})


# -- retry policies (queue metadata and subscription options) ---------------------------

@pytest.mark.parametrize("policy", [
    None, 0, "", [], {}, {"unknown": "kept"},
    {"minimum_delay": 5, "maximum_delay": 15}, {"minimum_delay": -20},
    {"retries_with_no_delay": 3, "minimum_delay_retries": 3, "maximum_delay_retries": 3,
     "retry_backoff_function": "geometric", "ignore_subscription_override": True},
    {"minimum_delay": None, "retry_backoff_function": None},
])
def test_valid_retry_policies_are_accepted(validate, policy):
    assert validate.metadata({"_retry_policy": policy}) == {"_retry_policy": policy}
    options = {"_retry_policy": policy}
    assert validate.subscription_options(options) == options


@pytest.mark.parametrize(("policy", "message"), [
    ("x", "_retry_policy must be a JSON object"),
    ([1], "_retry_policy must be a JSON object"),
    ({"minimum_delay": 1.5}, "minimum_delay must be an integer"),
    ({"maximum_delay": "60"}, "maximum_delay must be an integer"),
    ({"retries_with_no_delay": True}, "retries_with_no_delay must be an integer"),
    ({"minimum_delay_retries": "x"}, "minimum_delay_retries must be an integer"),
    ({"maximum_delay_retries": []}, "maximum_delay_retries must be an integer"),
    ({"retry_backoff_function": "cubic"}, "retry_backoff_function must be one of"),
    ({"retry_backoff_function": 5}, "retry_backoff_function must be one of"),
    ({"ignore_subscription_override": 1}, "ignore_subscription_override must be true"),
    ({"minimum_delay": 40}, r"minimum_delay \(40\) must be less than maximum_delay \(30\)"),
    ({"maximum_delay": -100}, "must be less than maximum_delay"),
    ({"minimum_delay": 20, "maximum_delay": 25}, "by at least 10 seconds"),
])
def test_invalid_retry_policies_are_refused(validate, policy, message):
    with pytest.raises(BadRequest, match=message):
        validate.metadata({"_retry_policy": policy})
    with pytest.raises(BadRequest, match=message):
        validate.subscription_options({"_retry_policy": policy})


# -- messages -------------------------------------------------------------------------

def test_messages_take_defaults_from_the_configuration(validate):
    batch = validate.messages([{"body": "hi"}], {}, None)
    assert batch == [NewMessage(body="hi", ttl=3600, delay=0, checksum=None)]


def test_messages_take_defaults_from_queue_metadata(validate):
    meta = {"_default_message_ttl": 120, "_default_message_delay": 30}
    assert validate.messages([{"body": 1}], meta, None) == [NewMessage(body=1, ttl=120,
                                                                        delay=30)]


def test_message_fields_win_over_defaults(validate):
    meta = {"_default_message_ttl": 120, "_default_message_delay": 30}
    batch = validate.messages([{"body": None, "ttl": 61, "delay": 0}], meta, None)
    assert batch == [NewMessage(body=None, ttl=61, delay=0)]


@pytest.mark.parametrize("value", [None, [], {"body": 1}, "messages"])
def test_messages_must_be_a_non_empty_list(validate, value):
    with pytest.raises(BadRequest, match="non-empty list of messages"):
        validate.messages(value, {}, None)


@pytest.mark.parametrize("item", [{"ttl": 60}, "body", None])
def test_each_message_needs_a_body(validate, item):
    with pytest.raises(BadRequest, match="with a body"):
        validate.messages([{"body": 1}, item], {}, None)


@pytest.mark.parametrize(("field", "value"), [("ttl", 59), ("ttl", "120"), ("ttl", 1209601),
                                              ("delay", -1), ("delay", 901), ("delay", "0")])
def test_message_ttl_and_delay_are_checked(validate, field, value):
    with pytest.raises(BadRequest, match=f"{field} must be an integer"):
        validate.messages([{"body": 1, field: value}], {}, None)


def test_messages_size_limit_is_the_configuration(make_validator):
    validate = make_validator(max_messages_post_size=100)
    assert len(validate.messages([{"body": "x"}], {}, 100)) == 1
    with pytest.raises(BadRequest, match="Message collection is too large"):
        validate.messages([{"body": "x"}], {}, 101)


def test_queue_metadata_may_lower_the_size_limit_but_not_raise_it(make_validator):
    validate = make_validator(max_messages_post_size=100)
    with pytest.raises(BadRequest, match="the most is 50 bytes"):
        validate.messages([{"body": "x"}], {"_max_messages_post_size": 50}, 51)
    with pytest.raises(BadRequest, match="the most is 100 bytes"):
        validate.messages([{"body": "x"}], {"_max_messages_post_size": 1000}, 101)


def test_messages_size_is_measured_as_json_when_not_given(make_validator):
    validate = make_validator(max_messages_post_size=40)
    with pytest.raises(BadRequest, match="too large"):
        validate.messages([{"body": "x" * 40}], {}, None)


def test_no_checksum_unless_enabled(validate):
    assert validate.messages([{"body": {"a": 1}}], {}, None)[0].checksum is None


def test_checksum_is_upstreams_md5_of_the_json_body_as_posted(make_validator):
    validate = make_validator(enable_checksum=True)
    body = {"b": [1, 2], "a": "é"}
    # Upstream: "MD5:" + md5(oslo jsonutils.dump_as_bytes(body)), which is json.dumps.
    expected = hashlib.md5(b'{"b": [1, 2], "a": "\\u00e9"}').hexdigest()
    assert validate.messages([{"body": body}], {}, None)[0].checksum == f"MD5:{expected}"


def test_checksum_follows_the_key_order_posted_as_upstreams(make_validator):
    validate = make_validator(enable_checksum=True)
    first, second = validate.messages([{"body": {"a": 1, "b": 2}}, {"body": {"b": 2, "a": 1}}],
                                      {}, None)
    assert first.checksum != second.checksum


# -- subscribers ----------------------------------------------------------------------

@pytest.mark.parametrize("uri", ["http://example.com/hook", "https://example.com:8443/h?x=1",
                                 "mailto:ops@example.com?subject=Orders",
                                 "trust+http://example.com", "trust+https://example.com/h"])
def test_subscribers_the_notifier_delivers_to_are_accepted(validate, uri):
    assert validate.subscriber(uri) == uri


def test_a_configured_scheme_nothing_delivers_to_is_refused(make_validator):
    validate = make_validator(subscriber_types=["http", "gopher"])
    with pytest.raises(BadRequest, match="Not delivered yet: Notification of gopher"):
        validate.subscriber("gopher://example.com/hole")


@pytest.mark.parametrize("uri", [None, "", 7, "http://example.com/" + "x" * 2048])
def test_subscriber_must_be_a_uri(validate, uri):
    with pytest.raises(BadRequest, match="Missing or invalid subscriber"):
        validate.subscriber(uri)


@pytest.mark.parametrize("uri", ["ftp://example.com", "example.com/hook", "ws://example.com"])
def test_subscriber_of_another_type_is_refused_with_the_allowed_ones(validate, uri):
    with pytest.raises(BadRequest, match="use one of: http, https, mailto"):
        validate.subscriber(uri)


def test_subscriber_types_follow_the_configuration(make_validator):
    validate = make_validator(subscriber_types=["https"])
    assert validate.subscriber("https://example.com") == "https://example.com"
    with pytest.raises(BadRequest, match="use one of: https.$"):
        validate.subscriber("http://example.com")


@pytest.mark.parametrize(("options", "error"), [
    ({"post_data": {"a": 1}}, "post_data must be a string"),
    ({"post_headers": "X-A: 1"}, "post_headers must be an object of strings"),
    ({"post_headers": {"X-A": 1}}, "post_headers must be an object of strings"),
    ({"filter_policy": []}, "filter_policy must be a non-empty JSON object"),
    ({"filter_policy": {"kind": "a"}}, "filter_policy.kind must be a non-empty list"),
    ({"filter_policy": {"n": [{"numeric": [">>", 1]}]}}, "numeric in filter_policy.n"),
    ({"filter_policy": {"n": [{"between": 1}]}}, "Unknown or malformed condition"),
])
def test_options_the_notifier_reads_must_have_their_types(validate, options, error):
    with pytest.raises(BadRequest, match=error):
        validate.subscription_options(options)


def test_options_the_notifier_reads_pass_when_well_formed(validate):
    options = {"post_data": '{"m": "$zaqar_message$"}', "post_headers": {"X-A": "1"},
               "filter_policy": {"kind": ["order", {"prefix": "re"}],
                                 "meta": {"n": [{"numeric": [">=", 1, "<", 5]}]}}}
    assert validate.subscription_options(options) == options


def test_subscription_options_must_be_an_object(validate):
    assert validate.subscription_options(None) == {}
    assert validate.subscription_options({"ttl": 1}) == {"ttl": 1}
    with pytest.raises(BadRequest, match="JSON object"):
        validate.subscription_options(["ttl"])
