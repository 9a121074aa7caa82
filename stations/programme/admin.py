from django.contrib import admin
from django.http import HttpRequest

from .models import Play


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
