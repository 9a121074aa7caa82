"""The chat admin: staff remove messages the way a DJ does."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from stations.models import ChatMessage, Station

pytestmark = pytest.mark.django_db(transaction=True)


def test_admin_action_removes_messages_from_the_chat(client):
    """The admin action marks the chosen messages deleted, and only those."""
    staff = get_user_model().objects.create_superuser("boss", password="x")
    station = Station.objects.create(slug="test-fm", name="Test FM")
    spam, fine = (
        ChatMessage.objects.create(station=station, user=staff, text=text)
        for text in ("spam", "fine")
    )
    client.force_login(staff)
    response = client.post(
        reverse("admin:stations_chatmessage_changelist"),
        {"action": "remove_from_chat", "_selected_action": [spam.pk]},
    )
    assert response.status_code == 302
    spam.refresh_from_db()
    fine.refresh_from_db()
    assert spam.deleted_at is not None
    assert fine.deleted_at is None
