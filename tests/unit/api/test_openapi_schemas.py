"""The OpenAPI document's data (zaqar/api/openapi_schemas.py) covers the action registry,
and the document (zaqar/transport/wsgi/openapi.py) every route the server serves."""
import pytest

from zaqar.api.openapi_schemas import OPERATIONS
from zaqar.api.registry import ACTIONS
from zaqar.transport.wsgi import openapi
from zaqar.transport.wsgi.routes import build_routes


def test_every_rest_action_has_its_operation_data_and_no_other():
    assert set(OPERATIONS) == {action.name for action in ACTIONS if action.rest}


@pytest.mark.parametrize(("admin_mode", "pooling"), [(False, False), (True, False),
                                                    (True, True)])
def test_the_document_has_every_path_and_method_of_the_routes(admin_mode, pooling):
    document = openapi.document(admin_mode, pooling)
    served = {(path, method.lower())
              for path, methods in build_routes(admin_mode, pooling).items()
              for method in methods}
    documented = {(path, method) for path, item in document["paths"].items()
                  for method in item if method != "parameters"}
    assert documented == served


def test_path_fields_are_declared_and_every_error_is_the_error_document():
    document = openapi.document(admin_mode=True, pooling=True)
    for path, item in document["paths"].items():
        fields = {p["name"] for p in item.get("parameters", ())}
        assert fields == set(openapi._FIELD.findall(path)), path
        for method, operation in item.items():
            if method in ("parameters", "head"):
                continue
            error = operation["responses"]["4XX"]["content"]["application/json"]["schema"]
            assert error == {"$ref": "#/components/schemas/Error"}
    assert document["components"]["schemas"]["Error"]["required"] == ["title", "description"]


def test_only_admin_mode_documents_health():
    assert "/v2/health" not in openapi.document(False)["paths"]
    assert set(openapi.document(True)["paths"]["/v2/health"]) == {"get", "head"}


def test_only_admin_mode_with_pooling_documents_pools_and_flavors():
    for admin_mode, pooling in ((False, True), (True, False)):
        paths = openapi.document(admin_mode, pooling)["paths"]
        assert not any(path.startswith(("/v2/pools", "/v2/flavors")) for path in paths)
    paths = openapi.document(True, True)["paths"]
    assert set(paths["/v2/pools/{pool_name}"]) == {"parameters", "get", "put", "patch",
                                                    "delete"}
    assert set(paths["/v2/flavors"]) == {"get"}
