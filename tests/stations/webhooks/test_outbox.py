"""Deliveries are claimed by one worker, retried with exponential backoff
up to RADIO_WEBHOOK_MAX_ATTEMPTS, and the log is pruned."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from stations.webhooks import outbox
from stations.webhooks.models import Delivery
from stations.webhooks.services import delivery_test

pytestmark = pytest.mark.django_db(transaction=True)
Status = Delivery.Status


@pytest.fixture
def delivery(webhook) -> Delivery:
    return delivery_test(webhook=webhook, payload={"station": {}})


def test_a_due_delivery_is_claimed_once(delivery):
    first = outbox.deliveries_claim(limit=10)
    second = outbox.deliveries_claim(limit=10)

    assert [d.pk for d in first] == [delivery.pk]
    assert second == []


def test_two_claimers_at_once_share_the_deliveries_without_overlap(webhook):
    """Threads with their own database connections claim at the same time."""
    made = {delivery_test(webhook=webhook, payload={}).pk for _ in range(20)}
    claimed: list[list[int]] = []
    start = threading.Barrier(2)

    def claim() -> None:
        start.wait()
        try:
            claimed.append([d.pk for d in outbox.deliveries_claim(limit=20)])
        finally:
            connection.close()

    threads = [threading.Thread(target=claim) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    together = claimed[0] + claimed[1]
    assert sorted(together) == sorted(made)
    assert len(set(together)) == len(together)


def test_a_claim_left_by_a_dead_worker_lapses(delivery):
    outbox.deliveries_claim(limit=1)
    Delivery.objects.update(claimed_until=timezone.now() - timedelta(seconds=1))

    assert [d.pk for d in outbox.deliveries_claim(limit=1)] == [delivery.pk]


def test_the_backoff_doubles_from_the_base(settings):
    settings.RADIO_WEBHOOK_RETRY_BASE_SECONDS = 10

    assert [outbox.retry_delay_s(n) for n in (1, 2, 3, 4)] == [10, 20, 40, 80]


def test_a_failed_attempt_waits_its_backoff_then_the_last_fails(settings, delivery):
    settings.RADIO_WEBHOOK_RETRY_BASE_SECONDS = 10
    settings.RADIO_WEBHOOK_MAX_ATTEMPTS = 3
    for attempt in (1, 2):
        (claimed,) = outbox.deliveries_claim(limit=1)
        before = timezone.now()
        assert outbox.delivery_attempt_failed(claimed, error="HTTP 500: x" * 100)
        delivery.refresh_from_db()
        assert delivery.status == Status.PENDING
        assert delivery.attempts == attempt
        assert len(delivery.error) == 500
        wait = (delivery.next_attempt_at - before).total_seconds()
        assert 10 * 2 ** (attempt - 1) <= wait < 10 * 2 ** (attempt - 1) + 2
        assert outbox.deliveries_claim(limit=1) == []
        Delivery.objects.update(next_attempt_at=timezone.now())

    (claimed,) = outbox.deliveries_claim(limit=1)
    outbox.delivery_attempt_failed(claimed, error="timeout", response_status=None)

    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (Status.FAILED, 3)
    assert outbox.deliveries_claim(limit=1) == []


def test_a_targets_retry_after_is_waited_for_within_a_bound(settings, delivery):
    settings.RADIO_WEBHOOK_RETRY_BASE_SECONDS = 1
    waits = []
    for asked in (30, 0.1, 10**9):
        Delivery.objects.update(next_attempt_at=timezone.now(), attempts=0)
        (claimed,) = outbox.deliveries_claim(limit=1)
        before = timezone.now()
        outbox.delivery_attempt_failed(claimed, error="429", retry_after_s=asked)
        delivery.refresh_from_db()
        waits.append(round((delivery.next_attempt_at - before).total_seconds()))

    assert waits == [30, 1, outbox.MAX_RETRY_AFTER_S]


def test_success_is_logged_with_the_answers_status(delivery):
    (claimed,) = outbox.deliveries_claim(limit=1)

    assert outbox.delivery_succeeded(claimed, response_status=204)

    delivery.refresh_from_db()
    assert delivery.status == Status.DELIVERED
    assert (delivery.attempts, delivery.response_status) == (1, 204)
    assert delivery.delivered_at is not None


def test_an_outcome_is_not_written_once_the_claim_passed_to_another(delivery):
    (mine,) = outbox.deliveries_claim(limit=1)
    Delivery.objects.update(claimed_until=timezone.now() - timedelta(seconds=1))
    (theirs,) = outbox.deliveries_claim(limit=1)

    assert not outbox.delivery_succeeded(mine, response_status=200)
    assert outbox.delivery_succeeded(theirs, response_status=200)
    delivery.refresh_from_db()
    assert delivery.attempts == 1


def test_the_log_keeps_recent_deliveries_only(monkeypatch, webhook):
    monkeypatch.setattr(outbox, "KEEP_PER_WEBHOOK", 3)
    made = [delivery_test(webhook=webhook, payload={}) for _ in range(6)]
    Delivery.objects.update(status=Status.DELIVERED)
    old = made[0]
    Delivery.objects.filter(pk=old.pk).update(
        created_at=timezone.now() - timedelta(days=outbox.KEEP_DAYS + 1)
    )
    waiting = delivery_test(webhook=webhook, payload={})

    outbox.deliveries_prune()

    kept = set(Delivery.objects.values_list("pk", flat=True))
    assert kept == {waiting.pk, made[4].pk, made[5].pk}
