from django.contrib import admin

from .models import RequestRules, SongRequest


@admin.register(RequestRules)
class RequestRulesAdmin(admin.ModelAdmin):
    list_display = [
        "station",
        "enabled",
        "per_user_minutes",
        "repeat_minutes",
        "max_pending",
        "artist_separation",
    ]
    list_filter = ["enabled"]
    raw_id_fields = ["station"]


@admin.register(SongRequest)
class SongRequestAdmin(admin.ModelAdmin):
    list_display = ["created_at", "station", "track", "user", "status", "played_at"]
    list_filter = ["status", "station"]
    search_fields = ["track__title", "track__artist", "user__username"]
    raw_id_fields = ["station", "track", "user"]
    readonly_fields = ["created_at", "cued_at"]
    date_hierarchy = "created_at"
