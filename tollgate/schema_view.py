"""/api/schema/ generated once per process, not on every request.

drf-spectacular walks every view and serializer on each request (about two seconds for this API). The result
depends only on the code (the URL conf and the views it reaches), the settings, the API version asked for and the
language the text is read in: the schema is public (SERVE_PUBLIC, not filtered by the reader's permissions), so
it is the same for every person allowed to read it. It is kept per process under those keys, and forgotten when a
setting changes (the tests override settings). The view's authentication and permission are drf-spectacular's,
unchanged: anonymous is still refused before the cache is consulted.
"""

from __future__ import annotations

import threading
from typing import Any

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.urls import get_urlconf
from django.utils import translation
from drf_spectacular.views import SpectacularAPIView
from rest_framework.request import Request
from rest_framework.response import Response

_SCHEMAS: dict[tuple, tuple[dict[str, Any], dict[tuple, bytes]]] = {}
_LOCK = threading.Lock()


@receiver(setting_changed)
def forget_schemas(**kwargs: Any) -> None:
    """A changed setting (ROOT_URLCONF, SPECTACULAR_SETTINGS, REST_FRAMEWORK...) may change the schema."""
    with _LOCK:
        _SCHEMAS.clear()


class _KeptResponse(Response):
    """The schema's response: its body, once rendered in a format (YAML or JSON, indent included in the media
    type), is kept with the schema, so the next request skips the rendering too (a second for the YAML)."""

    kept: dict[tuple, bytes]

    @property
    def rendered_content(self) -> Any:
        key = (type(self.accepted_renderer), str(self.accepted_media_type))
        body = self.kept.get(key)
        if body is None:
            body = self.kept[key] = super().rendered_content
            return body
        renderer = self.accepted_renderer
        self["Content-Type"] = self.content_type or (
            f"{renderer.media_type}; charset={renderer.charset}" if renderer.charset else renderer.media_type)
        return body


class CachedSpectacularAPIView(SpectacularAPIView):
    """drf-spectacular's schema view, the generated schema (and its rendering) kept for the next request with the
    same key."""

    def _get_schema_response(self, request: Request) -> Response:
        version = self.api_version or request.version or self._get_version_parameter(request)
        urlconf = self.urlconf or get_urlconf() or settings.ROOT_URLCONF
        key = (repr(urlconf), repr(self.patterns), version, translation.get_language(), self.serve_public,
               repr(self.custom_settings), self.generator_class)
        with _LOCK:
            kept = _SCHEMAS.get(key)
        if kept is None:
            generator = self.generator_class(urlconf=self.urlconf, api_version=version, patterns=self.patterns)
            kept = (generator.get_schema(request=request, public=self.serve_public), {})
            with _LOCK:
                _SCHEMAS[key] = kept
        response = _KeptResponse(
            data=kept[0],
            headers={"Content-Disposition": f'inline; filename="{self._get_filename(request, version)}"'},
        )
        response.kept = kept[1]
        return response

