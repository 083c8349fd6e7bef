"""Schemathesis hooks for tests/functional/test_openapi.py (loaded through
SCHEMATHESIS_HOOKS): the API's two JSON media types that are not named ``json``."""
import json

import schemathesis

JSON_PATCH = "application/openstack-messaging-v2.0-json-patch"

schemathesis.serializer.alias(JSON_PATCH, "application/json")


@schemathesis.deserializer("application/json-home")
def json_home(ctx, response):
    return json.loads(response.content)



@schemathesis.hook
def before_call(ctx, case, kwargs):
    """A long poll's ``wait`` (up to 20 s) is real time: sent whole, requests would
    outlast the run's timeouts. Waits of up to a second keep the parameter exercised;
    tests/functional/test_long_polling.py covers the rest."""
    query = case.query
    if isinstance(query, dict) and str(query.get("wait", "")).isdigit():
        query["wait"] = min(int(query["wait"]), 1)
