from django.urls import path

from . import views

app_name = "webhooks"

STUDIO_WEBHOOKS = "stations/<slug:slug>/studio/webhooks/"

urlpatterns = [
    path(STUDIO_WEBHOOKS, views.studio_webhooks, name="studio_webhooks"),
    path(
        f"{STUDIO_WEBHOOKS}<int:webhook_id>/delete/",
        views.studio_webhook_delete,
        name="studio_webhook_delete",
    ),
    path(
        f"{STUDIO_WEBHOOKS}<int:webhook_id>/test/",
        views.studio_webhook_test,
        name="studio_webhook_test",
    ),
]
