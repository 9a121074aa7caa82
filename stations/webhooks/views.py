"""The studio's webhooks page: a station's webhooks, a form for a new one,
a test button, and the log of recent deliveries."""

from __future__ import annotations

from asgiref.sync import async_to_sync
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from stations.access import managed_station
from stations.models import Station
from stations.runtime import get_bus

from .events import TEST
from .forms import WebhookForm
from .models import Webhook
from .selectors import station_deliveries, station_webhooks
from .services import WebhookError, delivery_test, webhook_create, webhook_delete
from .triggers import apayload


def _managed_station(request: HttpRequest, slug: str) -> Station:
    return managed_station(
        request, slug, "Only this station's DJs may manage its webhooks."
    )


def _webhook(request: HttpRequest, slug: str, webhook_id: int) -> Webhook:
    station = _managed_station(request, slug)
    return get_object_or_404(Webhook, station=station, pk=webhook_id)


@login_required
def studio_webhooks(request: HttpRequest, slug: str) -> HttpResponse:
    """The station's webhooks and their recent deliveries, and a form.

    Template: ``webhooks/studio_webhooks.html``; context: ``station``,
    ``webhooks``, ``deliveries``, ``form``.
    """
    station = _managed_station(request, slug)
    form = WebhookForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            webhook_create(
                station=station, created_by=request.user, **form.cleaned_data
            )
        except WebhookError as problem:
            form.add_error(None, str(problem))
        else:
            messages.success(request, "Added the webhook.")
            return redirect("webhooks:studio_webhooks", slug)
    return render(
        request,
        "webhooks/studio_webhooks.html",
        {
            "station": station,
            "webhooks": station_webhooks(station),
            "deliveries": station_deliveries(station),
            "form": form,
        },
        status=400 if form.errors else 200,
    )


@login_required
@require_POST
def studio_webhook_delete(request: HttpRequest, slug: str, webhook_id: int):
    webhook_delete(webhook=_webhook(request, slug, webhook_id))
    messages.success(request, "Deleted the webhook.")
    return redirect("webhooks:studio_webhooks", slug)


@login_required
@require_POST
def studio_webhook_test(request: HttpRequest, slug: str, webhook_id: int):
    """Queue a test delivery with what the station plays now."""
    webhook = _webhook(request, slug, webhook_id)
    # Back in the server's event loop, where the station bus lives.
    payload = async_to_sync(_test_payload)(webhook.station)
    delivery_test(webhook=webhook, payload=payload)
    messages.success(request, "Sending a test; its outcome appears in the log.")
    return redirect("webhooks:studio_webhooks", slug)


async def _test_payload(station: Station) -> dict:
    return await apayload(get_bus(), station, TEST)
