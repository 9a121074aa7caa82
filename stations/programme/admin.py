from django.contrib import admin
from django.http import HttpRequest

from .models import Episode, Play


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
