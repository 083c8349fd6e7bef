"""Schemathesis hooks for tests/functional/test_openapi.py (loaded through
SCHEMATHESIS_HOOKS): the API's two JSON media types that are not named ``json``."""
import json

import schemathesis

JSON_PATCH = "application/openstack-messaging-v2.0-json-patch"

schemathesis.serializer.alias(JSON_PATCH, "application/json")


@schemathesis.deserializer("application/json-home")
def json_home(ctx, response):
    return json.loads(response.content)
