"""The board pack's PDF, printed once per distinct page: WeasyPrint writes the same bytes for the same HTML (no date,
the charts inline), and printing the pack takes it several seconds, most of them drawing the charts' SVG paths."""

from __future__ import annotations

import hashlib
from importlib.metadata import version

from django.core.cache import cache
from django_weasyprint.views import WeasyTemplateResponse

CACHE_SECONDS = 24 * 3600  # the key changes with the page; this only bounds how long an unused entry stays


class PrintedOnceResponse(WeasyTemplateResponse):
    """A PDF from the cache when the same HTML, stylesheets and options were printed before, printed otherwise."""

    @property
    def rendered_content(self) -> bytes:
        html = super(WeasyTemplateResponse, self).rendered_content
        printed_as = repr((html, self.get_base_url(), self._stylesheets, self._options, version("weasyprint")))
        key = f"printed-pdf:{hashlib.sha256(printed_as.encode()).hexdigest()}"
        pdf = cache.get(key)
        if pdf is None:
            pdf = super().rendered_content
            cache.set(key, pdf, CACHE_SECONDS)
        return pdf
