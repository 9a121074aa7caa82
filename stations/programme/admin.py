from django import forms
from django.contrib import admin
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest
from django.utils import timezone

from stations.models import Station

from .live import notify_schedule_on_commit
from .models import Episode, Play, Show, Slot
from .services import (
    NotStationDjs,
    SlotOverlaps,
    show_hosts_check,
    slot_check_overlap,
)


class ShowForm(forms.ModelForm):
    """A show whose hosts must be DJs of its station."""

    class Meta:
        model = Show
        fields = "__all__"

    def clean(self) -> dict:
        cleaned = super().clean()
        station, hosts = cleaned.get("station"), cleaned.get("hosts")
        if station is not None and hosts is not None:
            try:
                show_hosts_check(station, hosts)
            except NotStationDjs as problem:
                self.add_error("hosts", str(problem))
        return cleaned


class SlotFormSet(BaseInlineFormSet):
    """A show's slots, refused where they overlap each other or another show's."""

    def clean(self) -> None:
        super().clean()
        show = self.instance
        if show.station_id is None:
            return
        station = show.station
        others = list(
            Slot.objects.filter(show__station=station)
            .exclude(show_id=show.pk)
            .select_related("show")
        )
        for form in self.forms:
            if not form.has_changed() and form.instance.pk is None:
                continue
            if not form.is_valid() or self._should_delete_form(form):
                continue
            slot = form.instance
            try:
                slot_check_overlap(slot, station, others)
            except SlotOverlaps as problem:
                form.add_error(None, str(problem))
            others.append(slot)


class SlotInline(admin.TabularInline):
    model = Slot
    formset = SlotFormSet
    extra = 1
    fields = ["kind", "weekday", "start_time", "starts_at", "duration_minutes"]

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        field = super().formfield_for_dbfield(db_field, request, **kwargs)
        if db_field.name == "starts_at":
            field.help_text = "One-off slots: the start, in the station's time zone."
        return field


@admin.register(Show)
class ShowAdmin(admin.ModelAdmin):
    """Shows with their slots. One-off slots are shown and typed in the
    station's time zone."""

    form = ShowForm
    inlines = [SlotInline]
    list_display = ["name", "station", "slug", "created_at"]
    list_filter = ["station"]
    search_fields = ["name", "slug", "description", "station__slug"]
    list_select_related = ["station"]
    filter_horizontal = ["hosts"]

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        station = self._station_of(request, object_id)
        zone = station.zone if station else timezone.get_current_timezone()
        with timezone.override(zone):
            return super().changeform_view(request, object_id, form_url, extra_context)

    def _station_of(self, request, object_id) -> Station | None:
        if object_id:
            show = Show.objects.filter(pk=object_id).select_related("station").first()
            return show.station if show else None
        station_id = request.POST.get("station", "")
        if station_id.isdigit():
            return Station.objects.filter(pk=station_id).first()
        return None

    def save_related(self, request, form, formsets, change) -> None:
        super().save_related(request, form, formsets, change)
        notify_schedule_on_commit(form.instance.station_id)

    def delete_model(self, request, obj) -> None:
        super().delete_model(request, obj)
        notify_schedule_on_commit(obj.station_id)

    def delete_queryset(self, request, queryset) -> None:
        station_ids = set(queryset.values_list("station_id", flat=True))
        super().delete_queryset(request, queryset)
        for station_id in station_ids:
            notify_schedule_on_commit(station_id)


@admin.register(Play)
class PlayAdmin(admin.ModelAdmin):
    """The play history, read-only: it is what the station played."""

    list_display = [
        "started_at",
        "station",
        "title",
        "artist",
        "source",
        "dj_name",
        "show",
        "listeners",
    ]
    list_filter = ["station", "source", "show"]
    search_fields = ["title", "artist", "dj_name", "show__name"]
    list_select_related = ["station", "show"]
    date_hierarchy = "started_at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(
        self, request: HttpRequest, obj: Play | None = None
    ) -> bool:
        return False

    def has_delete_permission(
        self, request: HttpRequest, obj: Play | None = None
    ) -> bool:
        return False


class TracklistInline(admin.TabularInline):
    """An episode's tracklist: the plays recorded in it, as they were."""

    model = Play
    fields = ["offset_ms", "artist", "title", "source", "started_at", "listeners"]
    readonly_fields = fields
    ordering = ["offset_ms", "started_at"]
    extra = 0
    can_delete = False
    verbose_name_plural = "tracklist"

    def has_add_permission(
        self, request: HttpRequest, obj: Episode | None = None
    ) -> bool:
        return False


@admin.register(Episode)
class EpisodeAdmin(admin.ModelAdmin):
    list_display = ["title", "station", "show", "dj_name", "started_at", "published"]
    list_filter = ["published", "station"]
    search_fields = ["title", "dj_name", "show__name"]
    date_hierarchy = "started_at"
    list_select_related = ["station", "show"]
    fields = [
        "station",
        "show",
        "dj",
        "dj_name",
        "title",
        "published",
        "file",
        "started_at",
        "ended_at",
        "duration_ms",
        "size_bytes",
        "recorded_at",
    ]
    readonly_fields = [
        "station",
        "dj",
        "dj_name",
        "file",
        "started_at",
        "ended_at",
        "duration_ms",
        "size_bytes",
        "recorded_at",
    ]
    inlines = [TracklistInline]

    def has_add_permission(self, request: HttpRequest) -> bool:
        # Episodes are made by recording broadcasts, not by hand.
        return False
