from django.contrib import admin, messages

from .models import ChatMessage, Station, StationMute
from .services import chat_message_delete


@admin.register(Station)
class StationAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "bitrate", "created_at"]
    search_fields = ["name", "slug", "description"]
    prepopulated_fields = {"slug": ["name"]}
    filter_horizontal = ["djs"]


@admin.register(ChatMessage)
class ChatMessageAdmin(admin.ModelAdmin):
    list_display = ["created_at", "station", "user", "text", "deleted_at"]
    list_filter = ["station", ("deleted_at", admin.EmptyFieldListFilter)]
    search_fields = ["text", "user__username", "station__slug", "station__name"]
    list_select_related = ["station", "user"]
    raw_id_fields = ["user"]
    date_hierarchy = "created_at"
    actions = ["remove_from_chat"]

    @admin.action(description="Remove selected messages from the chat")
    def remove_from_chat(self, request, queryset):
        """Delete as a DJ would, so that listeners see them go at once."""
        for message in queryset.select_related("station"):
            chat_message_delete(
                station=message.station, actor=request.user, message_id=message.pk
            )
        self.message_user(
            request, f"Removed {queryset.count()} messages.", messages.SUCCESS
        )


@admin.register(StationMute)
class StationMuteAdmin(admin.ModelAdmin):
    list_display = ["user", "station", "muted_by", "created_at"]
    list_filter = ["station"]
    search_fields = ["user__username", "station__slug", "station__name"]
    list_select_related = ["station", "user", "muted_by"]
    raw_id_fields = ["user", "muted_by"]
