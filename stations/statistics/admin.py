from django.contrib import admin

from .models import ListeningSession


@admin.register(ListeningSession)
class ListeningSessionAdmin(admin.ModelAdmin):
    """Sessions are recorded, never edited: the list is read-only."""

    list_display = [
        "started_at",
        "station",
        "duration_s",
        "transport",
        "client_kind",
        "user",
    ]
    list_filter = ["station", "transport", "client_kind", "started_at"]
    list_select_related = ["station", "user"]
    search_fields = ["user__username", "address_hash"]
    date_hierarchy = "started_at"
    ordering = ["-started_at", "-id"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
