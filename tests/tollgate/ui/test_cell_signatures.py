"""Each table cell method's arguments are worked out once (tollgate.ui.cell_signatures), not on every cell."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from tests.factories import InitiativeFactory

pytestmark = pytest.mark.django_db


def _signatures_asked_by_an_export(client, monkeypatch) -> int:
    """How often an initiative list export has django-tables2 ask inspect.signature, each cell method's arguments
    forgotten first."""
    import inspect
    import sys

    from tollgate.ui import cell_signatures

    asked = []
    signature = inspect.signature

    def counted(*args: Any, **kwargs: Any) -> Any:
        if sys._getframe(1).f_code.co_filename.endswith("django_tables2/utils.py"):
            asked.append(args[0])
        return signature(*args, **kwargs)

    cell_signatures._method_signatures.clear()
    monkeypatch.setattr(inspect, "signature", counted)
    response = client.get(reverse("portfolio:initiative_list"), {"_export": "csv"})
    monkeypatch.setattr(inspect, "signature", signature)
    assert response.status_code == 200
    return len(asked)


def test_an_export_works_out_each_cell_method_s_arguments_once_not_per_row(client, executive, monkeypatch):
    """django-tables2 asked every cell's render_/value_ method for its signature: most of a long export's time (the
    demo's 3,000 audit entries asked 18,000 times)."""
    client.force_login(executive)
    InitiativeFactory.create_batch(2)
    few = _signatures_asked_by_an_export(client, monkeypatch)
    InitiativeFactory.create_batch(8)
    assert _signatures_asked_by_an_export(client, monkeypatch) == few


def test_a_cell_method_s_arguments_are_read_as_django_tables2_reads_them():
    from django_tables2.utils import signature

    from tollgate.ui.cell_signatures import _cell_signature, cell_method_signature

    class Shown:
        def render_name(self, value: Any, record: Any) -> str:
            return f"{value} {record}"

        def value_name(self, **kwargs: Any) -> str:
            return ""

    assert signature is cell_method_signature  # installed at start-up
    first, second = Shown(), Shown()
    for method in (first.render_name, second.render_name, first.value_name, second.value_name):
        assert cell_method_signature(method) == _cell_signature(method)
    assert cell_method_signature(first.render_name) == (("value", "record"), None)
    assert cell_method_signature(second.value_name) == ((), "kwargs")
    assert cell_method_signature(lambda value: value) == (("value",), None)  # not a method: asked as before
