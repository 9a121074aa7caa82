"""Making and removing webhooks, and queueing events for them."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from stations.models import Station

from . import addresses
from .events import SONG_CHANGED, TEST
from .models import Delivery, Webhook

# Webhooks one station may have: enough for every service it posts to.
MAX_WEBHOOKS_PER_STATION = 20
Status = Delivery.Status


class WebhookError(ValueError):
    """A webhook that cannot be made; the message says what to change."""


def _message(problem: ValidationError) -> str:
    if hasattr(problem, "error_dict"):
        return " ".join(
            f"{field}: {' '.join(errors)}" if field != "__all__" else " ".join(errors)
            for field, errors in problem.message_dict.items()
        )
    return " ".join(problem.messages)


def webhook_create(
    *,
    station: Station,
    url: str,
    kind: str,
    events: list[str],
    secret: str,
    created_by: AbstractBaseUser | None,
) -> Webhook:
    """A new webhook of ``station``; :class:`WebhookError` says what is wrong."""
    webhook = Webhook(
        station=station,
        url=url,
        kind=kind,
        events=events,
        secret=secret,
        created_by=created_by,
    )
    try:
        webhook.full_clean()
    except ValidationError as problem:
        raise WebhookError(_message(problem)) from None
    webhook_check(webhook)
    webhook.save()
    return webhook


def webhook_check(webhook: Webhook) -> None:
    """Refuse a target that may not be sent to, a missing secret, or a
    new webhook past the station's allowance."""
    others = Webhook.objects.filter(station_id=webhook.station_id)
    if webhook.pk is None and others.count() >= MAX_WEBHOOKS_PER_STATION:
        raise WebhookError(
            f"A station may have {MAX_WEBHOOKS_PER_STATION} webhooks; delete one first."
        )
    if webhook.kind != Webhook.Kind.DISCORD and not webhook.secret:
        needed = (
            "the account's access token"
            if webhook.kind == Webhook.Kind.MASTODON
            else "a key to sign the bodies with"
        )
        raise WebhookError(f"secret: this kind of webhook needs {needed}.")
    try:
        addresses.check(webhook.url)
    except addresses.UnsafeTarget as problem:
        raise WebhookError(f"url: {problem}") from None


def webhook_delete(*, webhook: Webhook) -> None:
    webhook.delete()


# --- Queueing events -----------------------------------------------------------


def deliveries_enqueue(
    *,
    station_id: int,
    event: str,
    payload: dict[str, Any],
    dedupe_key: str = "",
) -> list[Delivery]:
    """Queue ``event`` for each enabled webhook of the station that wants it.

    With a ``dedupe_key``, a webhook that already had it is not told again.
    """
    webhooks = Webhook.objects.filter(station_id=station_id, enabled=True)
    queued = []
    for webhook in webhooks:
        if event not in webhook.events:
            continue
        if event == SONG_CHANGED:
            queued.append(_song_enqueue(webhook, payload))
        elif delivery := _enqueue_once(webhook, event, payload, dedupe_key):
            queued.append(delivery)
    return queued


def delivery_test(*, webhook: Webhook, payload: dict[str, Any]) -> Delivery:
    """Queue a test event for ``webhook``, whatever events it wants."""
    return _create(webhook, TEST, {**payload, "event": TEST}, timezone.now())


def _create(
    webhook: Webhook, event: str, payload: dict, due: datetime, dedupe_key: str = ""
) -> Delivery:
    return Delivery.objects.create(
        webhook=webhook,
        event=event,
        payload=payload,
        scheduled_for=due,
        next_attempt_at=due,
        dedupe_key=dedupe_key,
    )


def _enqueue_once(
    webhook: Webhook, event: str, payload: dict, dedupe_key: str
) -> Delivery | None:
    try:
        with transaction.atomic():
            return _create(webhook, event, payload, timezone.now(), dedupe_key)
    except IntegrityError:
        return None


def _song_enqueue(webhook: Webhook, payload: dict) -> Delivery:
    """Queue a song_changed at most one per ``RADIO_WEBHOOK_SONG_INTERVAL_SECONDS``
    after the one before; one still waiting is replaced, not queued behind."""
    interval = timedelta(seconds=settings.RADIO_WEBHOOK_SONG_INTERVAL_SECONDS)
    now = timezone.now()
    with transaction.atomic():
        # Serialises the songs of one webhook (PostgreSQL; SQLite writes one
        # at a time anyway).
        Webhook.objects.select_for_update().filter(pk=webhook.pk).first()
        before = (
            webhook.deliveries.filter(event=SONG_CHANGED)
            .exclude(status=Status.SUPERSEDED)
            .order_by("-scheduled_for", "-id")
            .first()
        )
        due = now
        if before is not None:
            if _supersede(before):
                due = max(now, before.scheduled_for)
            else:
                due = max(now, before.scheduled_for + interval)
        return _create(webhook, SONG_CHANGED, payload, due)


def _supersede(delivery: Delivery) -> bool:
    """Mark ``delivery`` superseded if no worker has taken it yet; in one
    statement, so that it is either sent or superseded, never both."""
    return bool(
        Delivery.objects.filter(
            pk=delivery.pk, status=Status.PENDING, attempts=0, claimed_until=None
        ).update(status=Status.SUPERSEDED, error="A newer song came first.")
    )
