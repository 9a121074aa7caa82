"""The API on a real daphne, with a key made by ``manage.py createapikey``."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest

from tests.live.conftest import LISTENER

pytestmark = pytest.mark.live


def get_me(server, key: str) -> tuple[int, dict]:
    request = urllib.request.Request(
        f"{server.http_url}/api/me", headers={"Authorization": f"Bearer {key}"}
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as refused:
        return refused.code, json.load(refused)


def test_a_key_from_createapikey_opens_the_api_as_its_user(sqlite_deployment, server):
    key = sqlite_deployment.manage("createapikey", LISTENER[0], "--name", "bot")

    assert key.count("\n") == 1
    assert get_me(server, key.strip()) == (200, {"username": LISTENER[0]})
    assert get_me(server, key.strip() + "x") == (401, {"detail": "Unauthorized"})


def test_createapikey_fails_in_one_line_for_an_unknown_user(sqlite_deployment):
    with pytest.raises(RuntimeError) as failure:
        sqlite_deployment.manage("createapikey", "nobody")

    error = str(failure.value).split("failed:\n", 1)[1]
    assert error == "CommandError: No user is called 'nobody'.\n"
