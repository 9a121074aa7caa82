"""``GET /api/me``: who the API takes the caller for."""

from django.http import HttpRequest
from ninja import Router, Schema

from .auth import key_or_session

router = Router(tags=["account"])


class Me(Schema):
    username: str


@router.get("/me", response=Me, auth=key_or_session)
def me(request: HttpRequest) -> dict[str, str]:
    """The user whose API key or session made the request."""
    return {"username": request.auth.get_username()}
