"""Filter policies on message bodies (ours, after SNS)."""
import pytest

from zaqar.notification.filters import FilterPolicyError, compile_policy

ORDER = {"kind": "order", "total": 120, "customer": {"tier": "gold", "name": "Ann"},
         "tags": "rush"}


@pytest.mark.parametrize("policy", [
    None, {}, {"kind": ["order"]}, {"kind": ["refund", "order"]},
    {"kind": [{"prefix": "or"}], "tags": [{"suffix": "sh"}]},
    {"total": [{"numeric": [">=", 100, "<", 200]}]}, {"total": [{"numeric": ["=", 120]}]},
    {"customer": {"tier": [{"anything-but": ["free", "trial"]}]}},
    {"coupon": [{"exists": False}], "kind": [{"exists": True}]},
])
def test_matching_bodies_pass(policy):
    assert compile_policy(policy)(ORDER) is True


@pytest.mark.parametrize("policy", [
    {"kind": ["refund"]}, {"total": [{"numeric": [">", 200]}]},
    {"total": ["120"]},  # a string never equals a number
    {"customer": {"tier": [{"anything-but": "gold"}]}},
    {"coupon": [{"exists": True}]}, {"coupon": [{"anything-but": "x"}]},
    {"customer": [{"prefix": "g"}]}, {"kind": ["order"], "tags": ["slow"]},
])
def test_other_bodies_do_not(policy):
    assert compile_policy(policy)(ORDER) is False


def test_a_body_that_is_not_an_object_matches_no_policy():
    assert compile_policy({"kind": [{"exists": False}]})("text") is False
    assert compile_policy(None)("text") is True


@pytest.mark.parametrize("policy", [
    [], "kind", {"kind": []}, {"kind": "order"}, {"kind": [{"prefix": 1}]},
    {"kind": [{"prefix": "a", "suffix": "b"}]}, {"n": [{"numeric": [">", "1"]}]},
    {"n": [{"numeric": [">", 1, "<"]}]}, {"kind": [["nested"]]},
    {"kind": [{"anything-but": [{"a": 1}]}]}, {"kind": list(range(151))},
])
def test_malformed_policies_are_refused(policy):
    with pytest.raises(FilterPolicyError):
        compile_policy(policy)
