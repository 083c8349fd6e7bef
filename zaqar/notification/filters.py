"""Filter policies (ours, after Amazon SNS's on message bodies): which messages a
subscription is sent.

A subscription's ``filter_policy`` option is a JSON object. Each key names a key of the
message body (an object); its value is a list of conditions, at least one of which the
body's value must meet, or an object: a policy for the body's value there (nested
keys). Every key of the policy must be met. A message whose body is not an object, or
that does not meet the policy, is not sent to the subscriber (its cursor moves past it).

Conditions: a string, number, boolean or null (equal to it); ``{"prefix": "text"}``;
``{"suffix": "text"}``; ``{"anything-but": value or [values]}``;
``{"numeric": [">", 0, "<=", 100]}`` (one or two comparisons); ``{"exists": true}``
(``false``: the key is absent). Without ``exists``, an absent key meets no condition.
"""
import operator
from collections.abc import Callable
from typing import Any

Predicate = Callable[[Any], bool]
_ABSENT = object()
_COMPARISONS: dict[str, Callable[[Any, Any], bool]] = {
    "=": operator.eq, "<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}
MAX_CONDITIONS = 150  # conditions in one policy, as SNS


class FilterPolicyError(ValueError):
    """The policy is malformed; the message says where."""


def compile_policy(policy: Any) -> Predicate:
    """A predicate on message bodies; no policy (None, {}) passes everything.

    Raises FilterPolicyError for a malformed policy.
    """
    if policy is None or policy == {}:
        return lambda _body: True
    counter = [0]
    check = _object(policy, "filter_policy", counter)
    return lambda body: isinstance(body, dict) and check(body)


def _object(policy: Any, where: str, counter: list[int]) -> Predicate:
    if not isinstance(policy, dict) or not policy:
        raise FilterPolicyError(f"{where} must be a non-empty JSON object.")
    checks: list[tuple[str, Predicate]] = []
    for key, rule in policy.items():
        path = f"{where}.{key}"
        if isinstance(rule, dict):
            checks.append((key, _nested(_object(rule, path, counter))))
        elif isinstance(rule, list) and rule:
            counter[0] += len(rule)
            if counter[0] > MAX_CONDITIONS:
                raise FilterPolicyError(f"A filter policy may hold at most {MAX_CONDITIONS} "
                                        "conditions.")
            checks.append((key, _any_of([_condition(item, path) for item in rule])))
        else:
            raise FilterPolicyError(f"{path} must be a non-empty list of conditions or a "
                                    "nested policy (an object).")
    return lambda body: all(check(body.get(key, _ABSENT)) for key, check in checks)


def _nested(check: Predicate) -> Predicate:
    return lambda value: isinstance(value, dict) and check(value)


def _any_of(conditions: list[Predicate]) -> Predicate:
    return lambda value: any(condition(value) for condition in conditions)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _equal(expected: Any) -> Predicate:
    if _is_number(expected):
        return lambda value: _is_number(value) and value == expected
    return lambda value: type(value) is type(expected) and value == expected


def _condition(item: Any, where: str) -> Predicate:
    if item is None or isinstance(item, str | bool) or _is_number(item):
        return _equal(item)
    if not isinstance(item, dict) or len(item) != 1:
        raise FilterPolicyError(f"Each condition of {where} must be a value or an object "
                                "with one operator (prefix, suffix, anything-but, numeric, "
                                "exists).")
    [(name, argument)] = item.items()
    if name in ("prefix", "suffix") and isinstance(argument, str):
        test = str.startswith if name == "prefix" else str.endswith
        return lambda value: isinstance(value, str) and test(value, argument)
    if name == "exists" and isinstance(argument, bool):
        return lambda value: (value is not _ABSENT) is argument
    if name == "anything-but":
        excluded = argument if isinstance(argument, list) else [argument]
        if not all(item is None or isinstance(item, str | bool) or _is_number(item)
                   for item in excluded):
            raise FilterPolicyError(f"anything-but in {where} takes values.")
        equals = [_equal(item) for item in excluded]
        return lambda value: value is not _ABSENT and not any(eq(value) for eq in equals)
    if name == "numeric":
        return _numeric(argument, where)
    raise FilterPolicyError(f"Unknown or malformed condition {name!r} in {where}.")


def _numeric(argument: Any, where: str) -> Predicate:
    if (not isinstance(argument, list) or len(argument) not in (2, 4)
            or not all(argument[i] in _COMPARISONS and _is_number(argument[i + 1])
                       for i in range(0, len(argument), 2))):
        raise FilterPolicyError(f"numeric in {where} takes one or two comparisons, such as "
                                '[">", 0, "<=", 100].')
    pairs = [(_COMPARISONS[argument[i]], argument[i + 1]) for i in range(0, len(argument), 2)]
    return lambda value: _is_number(value) and all(compare(value, bound)
                                                   for compare, bound in pairs)
