"""URLs of the dashboard benchmark: the app's own, plus a bare view that returns a body of a given size."""

from django.http import HttpRequest, HttpResponse
from django.urls import include, path


def bare(request: HttpRequest) -> HttpResponse:
    """The baseline: the same middleware (session, login, CSRF...), no work, a response of the requested size."""
    return HttpResponse(b"x" * int(request.GET.get("size", "0")), content_type="text/html")


urlpatterns = [path("bench/bare/", bare), path("", include("tollgate.urls"))]
