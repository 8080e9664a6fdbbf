"""English words about a name (tollgate.text): one possessive everywhere, in messages and on pages."""

from __future__ import annotations

import pytest
from django.template import Context, Template

from tollgate.text import possessive


@pytest.mark.parametrize(("name", "expected"), [
    ("Finance", "Finance's"),
    ("Digital Channels", "Digital Channels'"),
    ("SALES", "SALES'"),
    ("Part 3", "Part 3's"),
    ("2026 Q1", "2026 Q1's"),
    ("Claude 3 Haiku ", "Claude 3 Haiku's"),
    ("", ""),
])
def test_possessive_takes_the_apostrophe_alone_after_an_s(name, expected):
    assert possessive(name) == expected


def test_possessive_reads_any_value_as_text():
    class Person:
        def __str__(self) -> str:
            return "James"

    assert possessive(Person()) == "James'"


def test_the_template_filter_escapes_the_name_but_not_its_apostrophe():
    template = Template("{{ name|possessive }} initiatives")
    assert template.render(Context({"name": "Digital Channels"})) == "Digital Channels' initiatives"
    assert template.render(Context({"name": "Finance"})) == "Finance's initiatives"
    assert template.render(Context({"name": "<b>Ops</b> & Co"})) == "&lt;b&gt;Ops&lt;/b&gt; &amp; Co's initiatives"
    assert Template("{% autoescape off %}{{ name|possessive }}{% endautoescape %}").render(
        Context({"name": "R&D"})) == "R&D's"
