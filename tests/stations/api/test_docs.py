"""The API documents itself: an OpenAPI schema and a docs page that loads
its Swagger UI from this server, not from a CDN."""

from __future__ import annotations

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def test_the_schema_is_openapi():
    schema = Client().get("/api/openapi.json").json()

    assert schema["openapi"].startswith("3.")
    assert schema["info"]["title"] == "radio"


def test_the_docs_page_loads_its_scripts_from_this_server():
    page = Client().get("/api/docs/").content.decode()

    assert '"url": "/api/openapi.json"' in page
    assert '<script src="/static/ninja/swagger-ui-bundle.js"></script>' in page
    assert "cdn" not in page.lower()
