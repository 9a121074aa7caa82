from django.contrib import admin

from .models import Block, InboxMessage


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
