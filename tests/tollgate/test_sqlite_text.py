"""Case-insensitive search folds every letter, not only ASCII: on SQLite through tollgate.sqlite_text, on PostgreSQL
by ILIKE and UPPER themselves. The database tests run on both."""

from __future__ import annotations

import pytest
from django.db.models.functions import Lower, Upper

from portfolio.models import Initiative
from tests.factories import InitiativeFactory
from tollgate.sqlite_text import like, lower, upper


@pytest.mark.parametrize(("pattern", "value", "escape", "found"), [
    ("%évaluation%", "Évaluation des sinistres", None, True),
    ("überprüfung", "ÜBERPRÜFUNG", None, True),
    ("stra_e", "STRASSE", None, False),  # one character is one character
    ("%ss%", "Straße", None, True),  # casefold: ß is ss
    ("a%", "b a", None, False),
    ("a_c", "a\nc", None, True),
    (r"50\%", "50%", "\\", True),
    (r"50\%", "500", "\\", False),
    (r"a\_c", "abc", "\\", False),
    ("50%", "500", None, True),
    ("éco%", "ÉCOLE", None, True),  # startswith
    ("%LE", "école", None, True),  # endswith
    ("a%c%e", "ABCDE", None, True),
    ("a%c%e", "ACE", None, True),
    ("a%c%e", "AE", None, False),
    ("ab%ab", "ab", None, False),  # the start and the end may not overlap
    ("%", "", None, True),
    ("", "x", None, False),
    (None, "x", None, None),
    ("x", None, None, None),
])
def test_like_folds_every_letter_and_keeps_wildcards_and_escapes(pattern, value, escape, found):
    assert like(pattern, value, escape) is found if found is None else like(pattern, value, escape) == found


def test_lower_and_upper_fold_every_letter_and_keep_null():
    assert (lower("ÉCOLE Ü"), upper("école ü"), lower(None), lower(12)) == ("école ü", "ÉCOLE Ü", None, "12")


@pytest.mark.django_db
def test_searches_find_accented_names_whatever_their_case_on_every_database(login, api_client, reviewer):
    found = InitiativeFactory(name="Évaluation des sinistres", description="Überprüfung der Schäden")
    InitiativeFactory(name="Claims triage 50% faster", description="Plain.")
    assert list(Initiative.objects.filter(name__icontains="évaluation")) == [found]
    assert list(Initiative.objects.filter(description__icontains="ÜBERPRÜFUNG")) == [found]
    assert list(Initiative.objects.filter(name__iexact="ÉVALUATION DES SINISTRES")) == [found]
    assert list(Initiative.objects.filter(name__istartswith="éval")) == [found]
    assert not Initiative.objects.filter(name__icontains="50_ faster").exists()  # _ is a character, not a wildcard
    assert Initiative.objects.filter(pk=found.pk).annotate(
        low=Lower("name"), up=Upper("name")).values_list("low", "up").get() == (
        "évaluation des sinistres", "ÉVALUATION DES SINISTRES")
    page = login(reviewer).get("/portfolio/initiatives/", {"q": "évaluation"})
    assert [row.pk for row in page.context["object_list"]] == [found.pk]
    api_client.force_authenticate(reviewer)
    body = api_client.get("/api/initiatives/", {"search": "überprüfung"}).json()
    assert [row["id"] for row in body["results"]] == [found.pk]
