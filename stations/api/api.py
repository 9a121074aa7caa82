"""The public API under ``/api/``: its OpenAPI schema at ``/api/openapi.json``
and its docs page at ``/api/docs/`` are made by django-ninja from the
routers' signatures and schemas, never written by hand."""

from ninja import NinjaAPI

from .routes import router

api = NinjaAPI(
    title="radio",
    version="1",
    description=(
        "A station's now playing in AzuraCast's shape, its schedule and play "
        "history. Read endpoints are public and cached for a few seconds."
    ),
    docs_url="/docs/",
    urls_namespace="api",
)

api.add_router("", router)
