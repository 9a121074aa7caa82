"""Signing up and the user's API keys; signing in and out are Django's
own views."""

from django import forms
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import UserCreationForm
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from .api_keys import ApiKeyError, api_key_create, api_key_revoke, live_api_keys
from .models import API_KEY_NAME_MAX_CHARS
from .throttle import signup_record, signups_throttled


@signups_throttled
def signup(request: HttpRequest) -> HttpResponse:
    """Create an account and sign in with it; a few per address an hour.

    Template: ``registration/signup.html``; context: ``form``, ``next``.
    """
    next_url = request.POST.get("next") or request.GET.get("next") or "/"
    if not url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}
    ):
        next_url = "/"
    form = UserCreationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        signup_record(request)
        login(request, user)
        return redirect(next_url)
    return render(request, "registration/signup.html", {"form": form, "next": next_url})


class ApiKeyForm(forms.Form):
    name = forms.CharField(
        max_length=API_KEY_NAME_MAX_CHARS, help_text="What the key is for."
    )


@login_required
@never_cache
def api_keys(request: HttpRequest) -> HttpResponse:
    """The user's API keys; a POST makes one and shows it, this once (the
    page is never cached, since it may hold the key).

    Template: ``registration/api_keys.html``; context: ``api_keys``,
    ``form``, ``new_key`` (the key just made, or None).
    """
    form = ApiKeyForm(request.POST or None)
    new_key = None
    if request.method == "POST" and form.is_valid():
        try:
            new_key = api_key_create(user=request.user, name=form.cleaned_data["name"])
        except ApiKeyError as problem:
            form.add_error("name", str(problem))
        else:
            form = ApiKeyForm()
    context = {
        "api_keys": live_api_keys(request.user),
        "form": form,
        "new_key": new_key,
    }
    return render(request, "registration/api_keys.html", context)


@login_required
@require_POST
def api_key_revoke_view(request: HttpRequest, key_id: int) -> HttpResponse:
    """Revoke one of the user's keys, then show the list again."""
    if not api_key_revoke(user=request.user, key_id=key_id):
        raise Http404("You have no such key.")
    messages.success(request, "The key is revoked: it no longer opens the API.")
    return redirect("api_keys")
