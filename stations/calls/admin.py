from django.contrib import admin

from .models import Call, CallerBlock, CallRules


@admin.register(CallRules)
class CallRulesAdmin(admin.ModelAdmin):
    list_display = ["station", "enabled", "paused", "time_limit", "max_waiting"]
    list_filter = ["enabled"]
    raw_id_fields = ["station"]


@admin.register(Call)
class CallAdmin(admin.ModelAdmin):
    list_display = ["requested_at", "station", "caller", "state", "dj", "end_reason"]
    list_filter = ["state", "end_reason", "station"]
    search_fields = ["caller__username", "text"]
    raw_id_fields = ["station", "caller", "dj"]
    readonly_fields = ["requested_at", "answered_at", "ended_at"]
    date_hierarchy = "requested_at"


@admin.register(CallerBlock)
class CallerBlockAdmin(admin.ModelAdmin):
    list_display = ["created_at", "station", "user", "blocked_by"]
    list_filter = ["station"]
    search_fields = ["user__username"]
    raw_id_fields = ["station", "user", "blocked_by"]
