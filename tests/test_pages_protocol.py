"""The pages embed the protocol of radio.protocol.for_pages() for their scripts."""

from __future__ import annotations

import json
import re

import pytest
from django.test import Client

from radio.protocol import CROSSFADE_MAX_MS, MAX_TITLE_CHARS, for_pages

PROTOCOL_SCRIPT = re.compile(
    r'<script id="radio-protocol" type="application/json">(.*?)</script>', re.S
)


def embedded_protocol(html: str) -> dict:
    """The JSON of the page's one #radio-protocol script."""
    found = PROTOCOL_SCRIPT.findall(html)
    assert len(found) == 1, "each page embeds the protocol exactly once"
    return json.loads(found[0])


@pytest.mark.parametrize(
    "path", ["/", "/accounts/login/", "/stations/demo/", "/stations/demo/studio/"]
)
def test_pages_embed_the_protocol(dj_client, path):
    """Every page, signed in or not, carries for_pages() as JSON."""
    for client in (dj_client, Client()):
        response = client.get(path, follow=True)
        assert response.status_code == 200
        assert embedded_protocol(response.content.decode()) == for_pages()


def test_studio_limits_come_from_the_protocol(dj_client):
    """The console's fields use the server's limits, not copies."""
    html = dj_client.get("/stations/demo/studio/").content.decode()
    assert f'id="np-title" name="title" maxlength="{MAX_TITLE_CHARS}"' in html
    assert f'id="library-crossfade" min="0" max="{CROSSFADE_MAX_MS // 1000}"' in html
