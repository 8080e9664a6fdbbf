"""URLs that meet a database error, for the busy-database tests."""

from django.db import OperationalError
from django.http import HttpRequest, HttpResponse
from django.urls import include, path


def locked(request: HttpRequest) -> HttpResponse:
    raise OperationalError("database is locked")


def other(request: HttpRequest) -> HttpResponse:
    raise OperationalError("no such table: nowhere")


urlpatterns = [
    path("locked/", locked), path("api/locked/", locked), path("other/", other),
    path("", include("tollgate.urls")),
]
