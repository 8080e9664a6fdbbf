"""The notification bell in the navigation: the user's unread count, read in one query only when a page shows it."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from reviews import selectors
from tollgate.roles import may


def notification_bell(request: HttpRequest) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not may(user, "reviews.view_notification"):
        return {"show_notification_bell": False}
    return {"show_notification_bell": True,
            "unread_notifications": SimpleLazyObject(lambda: selectors.unread_count(user))}
