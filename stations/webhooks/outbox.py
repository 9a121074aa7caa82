"""The deliveries' lifecycle: claimed by one worker, sent, then delivered,
tried again later, or failed; and the log kept from growing without end.

Claims are conditional updates, so that on SQLite and PostgreSQL alike
exactly one worker sends each attempt.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Count, F, Q
from django.utils import timezone

from .db import off_the_request_thread
from .models import MAX_ERROR_CHARS, Delivery

Status = Delivery.Status
# A claim outlives the delivery's timeout by this much; a worker that died
# while sending leaves it to another once it has passed.
CLAIM_MARGIN_S = 10.0
# The log keeps this many deliveries per webhook, and none older than
# KEEP_DAYS (pending ones excepted).
KEEP_PER_WEBHOOK = 200
KEEP_DAYS = 30
# The longest wait a target's Retry-After may ask for.
MAX_RETRY_AFTER_S = 3600.0


def retry_delay_s(attempts: int) -> float:
    """Seconds before the next try, after ``attempts`` failed ones."""
    return settings.RADIO_WEBHOOK_RETRY_BASE_SECONDS * 2 ** (attempts - 1)


def deliveries_claim(*, limit: int) -> list[Delivery]:
    """Up to ``limit`` due deliveries, each claimed by this caller alone."""
    now = timezone.now()
    hold = now + timedelta(
        seconds=settings.RADIO_WEBHOOK_TIMEOUT_SECONDS + CLAIM_MARGIN_S
    )
    free = Q(claimed_until=None) | Q(claimed_until__lt=now)
    due = Delivery.objects.filter(free, status=Status.PENDING, next_attempt_at__lte=now)
    candidates = due.order_by("next_attempt_at", "id").values_list("pk", flat=True)
    claimed = [
        pk for pk in candidates[:limit] if due.filter(pk=pk).update(claimed_until=hold)
    ]
    return list(
        Delivery.objects.filter(pk__in=claimed).select_related(
            "webhook", "webhook__station"
        )
    )


def _finish(delivery: Delivery, **fields) -> bool:
    """Write the attempt's outcome if this caller's claim still holds."""
    return bool(
        Delivery.objects.filter(
            pk=delivery.pk, claimed_until=delivery.claimed_until
        ).update(attempts=F("attempts") + 1, claimed_until=None, **fields)
    )


def delivery_succeeded(delivery: Delivery, *, response_status: int) -> bool:
    return _finish(
        delivery,
        status=Status.DELIVERED,
        response_status=response_status,
        delivered_at=timezone.now(),
        error="",
    )


def delivery_attempt_failed(
    delivery: Delivery,
    *,
    error: str,
    response_status: int | None = None,
    retry_after_s: float | None = None,
) -> bool:
    """Try again after the backoff, or later if the target asked
    (``Retry-After``, as Discord's rate limits do); or give up after the
    last attempt."""
    attempts = delivery.attempts + 1
    fields: dict = {
        "error": error[:MAX_ERROR_CHARS],
        "response_status": response_status,
    }
    if attempts >= settings.RADIO_WEBHOOK_MAX_ATTEMPTS:
        fields["status"] = Status.FAILED
    else:
        delay_s = retry_delay_s(attempts)
        if retry_after_s is not None:
            delay_s = max(delay_s, min(retry_after_s, MAX_RETRY_AFTER_S))
        fields["next_attempt_at"] = timezone.now() + timedelta(seconds=delay_s)
    return _finish(delivery, **fields)


def deliveries_prune(now: datetime | None = None) -> int:
    """Forget finished deliveries past ``KEEP_DAYS`` or past the newest
    ``KEEP_PER_WEBHOOK`` of their webhook; the number forgotten."""
    now = now or timezone.now()
    finished = Delivery.objects.exclude(status=Status.PENDING)
    too_old = now - timedelta(days=KEEP_DAYS)
    deleted, _ = finished.filter(created_at__lt=too_old).delete()
    crowded = (
        Delivery.objects.values("webhook_id")
        .annotate(kept=Count("id"))
        .filter(kept__gt=KEEP_PER_WEBHOOK)
        .values_list("webhook_id", flat=True)
    )
    for webhook_id in crowded:
        newest = Delivery.objects.filter(webhook_id=webhook_id).order_by(
            "-created_at", "-id"
        )
        oldest_kept = newest[KEEP_PER_WEBHOOK - 1]
        deleted += (
            finished.filter(webhook_id=webhook_id)
            .filter(
                Q(created_at__lt=oldest_kept.created_at)
                | Q(created_at=oldest_kept.created_at, id__lt=oldest_kept.id)
            )
            .delete()[0]
        )
    return deleted


adeliveries_claim = off_the_request_thread(deliveries_claim)
adelivery_succeeded = off_the_request_thread(delivery_succeeded)
adelivery_attempt_failed = off_the_request_thread(delivery_attempt_failed)
adeliveries_prune = off_the_request_thread(deliveries_prune)
