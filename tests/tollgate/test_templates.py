"""The project's templates: Django's `{# #}` comment ends on its own line, so a multi-line one is shown on the page."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.template import engines
from django.template.utils import get_app_template_dirs
from django.urls import reverse

from portfolio.models import CostSource

COMMENT_OPENS = re.compile(r"\{#")


def project_template_files() -> list[Path]:
    """Every file under the project's template folders (the DIRS and each app's templates/), not third parties'."""
    root = Path(settings.BASE_DIR).resolve()
    folders = [Path(folder) for folder in engines["django"].engine.dirs] + list(get_app_template_dirs("templates"))
    ours = {folder.resolve() for folder in folders if folder.resolve().is_relative_to(root)
            and ".venv" not in folder.resolve().relative_to(root).parts}
    return sorted(path for folder in ours for path in folder.rglob("*") if path.is_file())


def unclosed_comments(text: str) -> list[int]:
    """The line numbers of a `{#` with no `#}` after it on the same line."""
    return [number for number, line in enumerate(text.splitlines(), 1)
            for opening in COMMENT_OPENS.finditer(line) if "#}" not in line[opening.end():]]


def test_the_scan_finds_the_project_templates():
    names = {path.relative_to(settings.BASE_DIR).as_posix() for path in project_template_files()}
    assert "portfolio/templates/portfolio/costs/_run_form.html" in names
    assert any(name.startswith("templates/") for name in names)
    assert not any(".venv" in name for name in names)


def test_unclosed_comments_are_found_line_by_line():
    assert unclosed_comments("{# one line #}\n{# two\n   lines #}\n<p>{# a #} {# b</p>") == [2, 4]


def test_no_template_has_a_comment_spanning_lines():
    """Use {% comment %} ... {% endcomment %} for a comment longer than a line."""
    found = [f"{path.relative_to(settings.BASE_DIR)}:{line}" for path in project_template_files()
             for line in unclosed_comments(path.read_text(encoding="utf-8"))]
    assert found == []


@pytest.mark.django_db
def test_the_run_now_form_shows_no_template_comment(login, admin_user):
    source = CostSource.objects.create(name="contracts-csv", type="csv")
    for url in (reverse("portfolio:costsource_detail", args=[source.pk]),
                reverse("portfolio:costsource_run", args=[source.pk])):
        html = login(admin_user).get(url).content.decode()
        assert "Run now" in html
        assert "{#" not in html and "{% comment" not in html
