"""Serve plotly.min.js from the installed plotly package, so no CDN and no committed bundle."""

from pathlib import Path

import plotly
from django.contrib.staticfiles.finders import BaseFinder
from django.core.files.storage import FileSystemStorage

PLOTLY_JS_DIR = Path(plotly.__file__).parent / "package_data"


class PlotlyStorage(FileSystemStorage):
    """collectstatic reads the storage's `prefix` to place its files under static/vendor/."""

    prefix = "vendor"


class PlotlyFinder(BaseFinder):
    """Exposes the package's plotly.min.js as static/vendor/plotly.min.js."""

    prefix = "vendor"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.storage = PlotlyStorage(location=str(PLOTLY_JS_DIR))

    def check(self, **kwargs):
        return []

    def find(self, path, find_all=False, **kwargs):
        if path == f"{self.prefix}/plotly.min.js":
            match = str(PLOTLY_JS_DIR / "plotly.min.js")
            return [match] if find_all else match
        return [] if find_all else None

    def list(self, ignore_patterns):
        yield "plotly.min.js", self.storage
