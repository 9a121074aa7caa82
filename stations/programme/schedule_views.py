"""The public schedule, its iCalendar feed, and the studio's shows pages."""

from __future__ import annotations

from datetime import date, timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from stations.access import managed_station
from stations.models import Station

from .calendar import station_calendar
from .forms import ShowForm, SlotForm
from .live import occurrence_as_dict
from .models import Show, Slot
from .schedule import days_of_week, week_monday
from .selectors import (
    station_shows,
    station_slots,
    station_week,
)
from .services import (
    ProgrammeError,
    show_create,
    show_delete,
    show_update,
    slot_add_once,
    slot_add_weekly,
    slot_describe,
    slot_remove,
)

# The weeks a schedule page may show: far enough for any real programme.
FIRST_WEEK = date(2000, 1, 3)
LAST_WEEK = date(2999, 12, 30)


def _week_asked(request: HttpRequest, station: Station) -> date:
    """The Monday of ``?week=YYYY-MM-DD``, or of today in the station's zone."""
    asked = request.GET.get("week")
    if not asked:
        return week_monday(timezone.now().astimezone(station.zone).date())
    day = date.fromisoformat(asked[:10]) if len(asked) == 10 else None
    if day is None or not FIRST_WEEK <= day <= LAST_WEEK:
        raise ValueError
    return week_monday(day)


def schedule(request: HttpRequest, slug: str) -> HttpResponse:
    """This week's shows by day; ``schedule.js`` lays them out again in the
    reader's time zone. ``?week=YYYY-MM-DD`` names another week.

    Template: ``programme/schedule.html``; context: ``station``, ``days``
    (in the station's zone), ``occurrences`` (as JSON), ``week``,
    ``previous_week``, ``next_week``, ``now``.
    """
    station = get_object_or_404(Station, slug=slug)
    try:
        monday = _week_asked(request, station)
    except ValueError:
        return HttpResponseBadRequest(
            "week must be a date such as 2026-12-21.", content_type="text/plain"
        )
    found = station_week(station, monday)
    return render(
        request,
        "programme/schedule.html",
        {
            "station": station,
            "days": days_of_week(found, monday, station.zone),
            "occurrences": [occurrence_as_dict(o) for o in found],
            "week": monday,
            "previous_week": monday - timedelta(days=7),
            "next_week": monday + timedelta(days=7),
            "now": timezone.now(),
        },
    )


def schedule_ics(request: HttpRequest, slug: str) -> HttpResponse:
    """The station's slots as an iCalendar feed."""
    station = get_object_or_404(Station, slug=slug)
    body = station_calendar(station, station_slots(station), request.get_host())
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'inline; filename="{station.slug}.ics"'
    return response


# --- The studio's shows pages -------------------------------------------------


def _editable_station(request: HttpRequest, slug: str) -> Station:
    return managed_station(
        request, slug, "Only this station's DJs may change its shows."
    )


def _editable_show(request: HttpRequest, slug: str, show_slug: str) -> Show:
    station = _editable_station(request, slug)
    return get_object_or_404(Show, station=station, slug=show_slug)


@login_required
def studio_shows(request: HttpRequest, slug: str) -> HttpResponse:
    """The station's shows with their slots, and a form for a new one.

    Template: ``programme/studio_shows.html``; context: ``station``,
    ``shows`` (each with ``when``: its slots described), ``form``.
    """
    station = _editable_station(request, slug)
    form = ShowForm(request.POST or None, station=station)
    if request.method == "POST" and form.is_valid():
        try:
            show = show_create(station=station, **form.cleaned_data)
        except ProgrammeError as problem:
            form.add_error(None, str(problem))
        else:
            messages.success(request, f"Made the show {show.name}; now give it slots.")
            return redirect("programme:studio_show", slug, show.slug)
    shows = [
        (show, [slot_describe(slot, station) for slot in show.slots.all()])
        for show in station_shows(station)
    ]
    return render(
        request,
        "programme/studio_shows.html",
        {"station": station, "shows": shows, "form": form},
        status=400 if form.errors else 200,
    )


def _show_page(
    request: HttpRequest,
    show: Show,
    *,
    show_form: ShowForm | None = None,
    slot_form: SlotForm | None = None,
) -> HttpResponse:
    station = show.station
    show_form = show_form or ShowForm(
        station=station,
        initial={
            "name": show.name,
            "description": show.description,
            "hosts": show.hosts.all(),
        },
    )
    slot_form = slot_form or SlotForm()
    slots = [(slot, slot_describe(slot, station)) for slot in show.slots.all()]
    return render(
        request,
        "programme/studio_show.html",
        {
            "station": station,
            "show": show,
            "slots": slots,
            "show_form": show_form,
            "slot_form": slot_form,
        },
        status=400 if show_form.errors or slot_form.errors else 200,
    )


@login_required
def studio_show(request: HttpRequest, slug: str, show_slug: str) -> HttpResponse:
    """One show: its name, description and hosts, its slots, a form for
    another slot.

    Template: ``programme/studio_show.html``; context: ``station``, ``show``,
    ``slots`` (each with its description), ``show_form``, ``slot_form``.
    """
    show = _editable_show(request, slug, show_slug)
    if request.method != "POST":
        return _show_page(request, show)
    form = ShowForm(request.POST, station=show.station)
    if form.is_valid():
        try:
            show_update(show=show, **form.cleaned_data)
        except ProgrammeError as problem:
            form.add_error(None, str(problem))
        else:
            messages.success(request, f"Saved {show.name}.")
            return redirect("programme:studio_show", slug, show.slug)
    return _show_page(request, show, show_form=form)


@login_required
@require_POST
def studio_show_delete(request: HttpRequest, slug: str, show_slug: str) -> HttpResponse:
    show = _editable_show(request, slug, show_slug)
    show_delete(show=show)
    messages.success(request, f"Deleted the show {show.name}.")
    return redirect("programme:studio_shows", slug)


@login_required
@require_POST
def studio_slot_add(request: HttpRequest, slug: str, show_slug: str) -> HttpResponse:
    show = _editable_show(request, slug, show_slug)
    form = SlotForm(request.POST)
    if form.is_valid():
        minutes = form.cleaned_data["minutes"]
        try:
            if form.cleaned_data["kind"] == Slot.Kind.WEEKLY:
                slot = slot_add_weekly(
                    show=show,
                    weekday=form.cleaned_data["weekday"],
                    start=form.cleaned_data["start"],
                    minutes=minutes,
                )
            else:
                slot = slot_add_once(
                    show=show, local_start=form.local_start(), minutes=minutes
                )
        except ProgrammeError as problem:
            form.add_error(None, str(problem))
        else:
            when = slot_describe(slot, show.station)
            messages.success(request, f"Added a slot: {when}.")
            return redirect("programme:studio_show", slug, show.slug)
    return _show_page(request, show, slot_form=form)


@login_required
@require_POST
def studio_slot_delete(
    request: HttpRequest, slug: str, show_slug: str, slot_id: int
) -> HttpResponse:
    show = _editable_show(request, slug, show_slug)
    slot = get_object_or_404(Slot, show=show, pk=slot_id)
    slot_remove(slot=slot)
    messages.success(request, f"Removed the slot {slot_describe(slot, show.station)}.")
    return redirect("programme:studio_show", slug, show.slug)
