from django.contrib import admin
from django.utils import timezone

from .models import ApiKey, Block, InboxMessage


@admin.register(InboxMessage)
class InboxMessageAdmin(admin.ModelAdmin):
    list_display = ["created_at", "sender", "recipient", "kind", "station", "read_at"]
    list_filter = ["kind", "hidden"]
    search_fields = ["sender__username", "recipient__username", "text"]
    raw_id_fields = ["sender", "recipient", "station"]
    date_hierarchy = "created_at"


@admin.register(Block)
class BlockAdmin(admin.ModelAdmin):
    list_display = ["created_at", "blocker", "blocked"]
    search_fields = ["blocker__username", "blocked__username"]
    raw_id_fields = ["blocker", "blocked"]


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    """Keys are made where they can be shown once (the user's page and
    ``createapikey``); here they can only be seen, without the key, and
    revoked."""

    list_display = [
        "created_at",
        "user",
        "name",
        "prefix",
        "last_used_at",
        "revoked_at",
    ]
    list_filter = [("revoked_at", admin.EmptyFieldListFilter)]
    search_fields = ["user__username", "name", "prefix"]
    fields = ["user", "name", "prefix", "created_at", "last_used_at", "revoked_at"]
    readonly_fields = fields
    actions = ["revoke"]

    def has_add_permission(self, request):
        return False

    @admin.action(description="Revoke the selected keys")
    def revoke(self, request, queryset):
        revoked = queryset.filter(revoked_at=None).update(revoked_at=timezone.now())
        self.message_user(request, f"Keys revoked: {revoked}.")
