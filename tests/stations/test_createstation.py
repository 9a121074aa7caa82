"""``manage.py createstation``, here its ``--source-password``."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from stations.models import Station

pytestmark = pytest.mark.django_db(transaction=True)


def createstation(*args: str) -> Station:
    call_command(
        "createstation", "test-fm", "--name", "Test FM", *args, stdout=StringIO()
    )
    return Station.objects.get(slug="test-fm")


def test_source_password_is_stored_hashed():
    station = createstation("--source-password", "hackme")
    assert station.check_source_password("hackme")
    assert not station.check_source_password("wrong")
    assert "hackme" not in station.source_password


def test_updating_without_it_keeps_it_and_empty_removes_it():
    createstation("--source-password", "hackme")
    assert createstation().check_source_password("hackme")
    cleared = createstation("--source-password", "")
    assert cleared.source_password == ""
    assert not cleared.check_source_password("")


def test_errors_are_one_line_and_exit_non_zero():
    with pytest.raises(CommandError, match=r"^No such user: nobody\.$") as error:
        createstation("--dj", "nobody", "--source-password", "hackme")
    assert error.value.returncode != 0
    assert not Station.objects.exists()
