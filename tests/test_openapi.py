"""The OpenAPI schema and its two viewers, served without a CDN."""

import re

import pytest

pytestmark = pytest.mark.django_db


def test_schema_is_valid_openapi_with_the_lead_paths(client):
    response = client.get("/api/openapi.json")

    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    assert schema["info"]["title"] == "CRM API"
    paths = schema["paths"]
    for path in ("/api/v1/leads/", "/api/v1/leads/{id}/", "/api/v1/leads/{id}/interactions/",
                 "/api/v1/leads/{id}/activity/", "/api/v1/interactions/", "/api/v1/actions/{id}/",
                 "/api/v1/auth/login/", "/api/v1/auth/me/"):
        assert path in paths, sorted(paths)
    lead_list = paths["/api/v1/leads/"]
    assert {"get", "post"} <= set(lead_list)
    params = {p["name"] for p in lead_list["get"]["parameters"]}
    assert {"search", "status", "limit", "offset", "page", "per_page", "ordering"} <= params
    assert {"get", "put", "patch", "delete"} <= set(paths["/api/v1/leads/{id}/"])
    # Every $ref resolves inside the document.
    text = response.content.decode()
    for ref in set(re.findall(r'"\$ref":\s*"#/components/schemas/([^"]+)"', text)):
        assert ref in schema["components"]["schemas"], ref


def test_schema_validates_as_openapi_3():
    from drf_spectacular.generators import SchemaGenerator
    from drf_spectacular.validation import validate_schema

    schema = SchemaGenerator().get_schema(request=None, public=True)
    validate_schema(schema)  # raises on an invalid document


@pytest.mark.parametrize("path", ["/docs", "/docs/", "/redoc", "/redoc/"])
def test_viewers_render_from_local_static_files_only(client, path):
    response = client.get(path)

    assert response.status_code == 200
    html = response.content.decode()
    assert "/api/openapi.json" in html
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert assets, html
    for url in assets:
        assert not re.match(r"(https?:)?//", url), url
    assert not re.search(r"https?://(cdn|unpkg|fonts\.googleapis|cdnjs)", html)
