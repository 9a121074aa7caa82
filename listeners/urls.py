from django.contrib.auth import views as auth_views
from django.urls import path

from . import views
from .throttle import signin_throttled

urlpatterns = [
    path("login/", signin_throttled(auth_views.LoginView.as_view()), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("signup/", views.signup, name="signup"),
    path("api-keys/", views.api_keys, name="api_keys"),
    path(
        "api-keys/<int:key_id>/revoke/",
        views.api_key_revoke_view,
        name="api_key_revoke",
    ),
]
