"""The site's icon: an SVG of our own, linked from every page of the layout."""

from __future__ import annotations

import re
from xml.etree import ElementTree

import pytest
from django.contrib.staticfiles import finders
from django.templatetags.static import static
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_every_page_links_the_icon(client, owner):
    link = re.compile(rf'<link rel="icon" href="{re.escape(static("img/favicon.svg"))}" type="image/svg\+xml">')
    assert link.search(client.get(reverse("login")).content.decode())
    client.force_login(owner)
    assert link.search(client.get(reverse("portfolio:initiative_list")).content.decode())


def test_the_icon_is_a_square_svg():
    path = finders.find("img/favicon.svg")
    assert path is not None
    root = ElementTree.parse(path).getroot()
    assert root.tag == "{http://www.w3.org/2000/svg}svg" and root.get("viewBox") == "0 0 32 32"
