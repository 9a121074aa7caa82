"""A station's webhooks for its DJs and staff: list, add, delete.

``GET/POST /api/stations/{slug}/webhooks``, ``DELETE .../webhooks/{id}``;
by API key or session (whose POST and DELETE need the CSRF token). The
secret is never sent back: ``has_secret`` says whether one is set.
"""

from __future__ import annotations

from datetime import datetime

from django.contrib.auth.models import AbstractBaseUser
from django.http import HttpRequest
from ninja import Router, Schema, Status
from ninja.errors import HttpError
from pydantic import Field

from stations.models import Station
from stations.selectors import station_managed_by
from stations.webhooks.models import MAX_SECRET_CHARS, MAX_URL_CHARS, Webhook
from stations.webhooks.selectors import station_webhooks
from stations.webhooks.services import WebhookError, webhook_create, webhook_delete

from . import schemas
from .auth import key_or_session
from .routes import NO_SUCH_STATION, Slug

router = Router(tags=["Webhooks"], auth=key_or_session)
NOT_YOURS = "Only the station's DJs and staff may manage its webhooks."


class WebhookIn(Schema):
    url: str = Field(max_length=MAX_URL_CHARS)
    events: list[str] = Field(max_length=20)
    kind: str = Field(Webhook.Kind.GENERIC, max_length=16)
    secret: str = Field("", max_length=MAX_SECRET_CHARS)


class WebhookOut(Schema):
    id: int
    url: str
    kind: str
    events: list[str]
    enabled: bool
    has_secret: bool
    created_at: datetime


def webhook_out(webhook: Webhook) -> dict:
    return {
        "id": webhook.pk,
        "url": webhook.url,
        "kind": webhook.kind,
        "events": webhook.events,
        "enabled": webhook.enabled,
        "has_secret": bool(webhook.secret),
        "created_at": webhook.created_at,
    }


def managed_station(slug: str, user: AbstractBaseUser) -> Station:
    station = Station.objects.filter(slug=slug).first()
    if station is None:
        raise HttpError(404, NO_SUCH_STATION)
    if not station_managed_by(station, user):
        raise HttpError(403, NOT_YOURS)
    return station


@router.get(
    "/stations/{slug}/webhooks",
    response={200: list[WebhookOut], 403: schemas.Error, 404: schemas.Error},
)
def webhooks_list(request: HttpRequest, slug: Slug):
    """The station's webhooks."""
    station = managed_station(slug, request.auth)
    return [webhook_out(webhook) for webhook in station_webhooks(station)]


@router.post(
    "/stations/{slug}/webhooks",
    response={
        201: WebhookOut,
        400: schemas.Error,
        403: schemas.Error,
        404: schemas.Error,
    },
)
def webhooks_add(request: HttpRequest, slug: Slug, body: WebhookIn):
    """Add a webhook: ``kind`` is generic, discord or mastodon; ``events``
    name what it is told of (docs/WEBHOOKS.md)."""
    station = managed_station(slug, request.auth)
    try:
        webhook = webhook_create(
            station=station, created_by=request.auth, **body.dict()
        )
    except WebhookError as problem:
        raise HttpError(400, str(problem)) from None
    return Status(201, webhook_out(webhook))


@router.delete(
    "/stations/{slug}/webhooks/{webhook_id}",
    response={204: None, 403: schemas.Error, 404: schemas.Error},
)
def webhooks_delete(request: HttpRequest, slug: Slug, webhook_id: int):
    """Delete a webhook and its log."""
    station = managed_station(slug, request.auth)
    webhook = station.webhooks.filter(pk=webhook_id).first()
    if webhook is None:
        raise HttpError(404, "No such webhook.")
    webhook_delete(webhook=webhook)
    return Status(204, None)
