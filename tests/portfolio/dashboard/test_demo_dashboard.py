"""The demo company's dashboard: every role opens it and it tells the demo's story."""

from __future__ import annotations

import json

from django.urls import reverse

from portfolio.calculations import Quarter
from portfolio.costs.connectors.base import Period
from portfolio.costs.selectors import cost_report
from portfolio.dashboard.selectors import dashboard, default_quarter


def test_demo_dashboard_page_and_api(demo, client, django_user_model):
    quarter = default_quarter()
    board = dashboard(quarter=quarter)
    reports = [cost_report(period=Period.month(m.year, m.month)) for m in quarter.months]
    assert board["spend"] == sum(r["total"] for r in reports)
    assert board["unallocated"] == sum(r["unallocated"] for r in reports)
    executive = django_user_model.objects.filter(groups__name="executive").first()
    client.force_login(executive)
    page = client.get(reverse("portfolio:dashboard"))
    assert page.status_code == 200, page.content[:2000]
    api = client.get(reverse("api:dashboard"), {"quarter": quarter.name})
    assert api.status_code == 200
    print(json.dumps({k: v for k, v in api.json().items() if k not in ("spend_by_category_month",)}, indent=1)[:6000])
    print(Quarter.parse(quarter.name))


def test_demo_board_pack_pdf(demo, client, django_user_model):
    import io
    import time

    from pypdf import PdfReader

    quarter = default_quarter()
    executive = django_user_model.objects.filter(groups__name="executive").first()
    client.force_login(executive)
    started = time.perf_counter()
    response = client.get(reverse("portfolio:board_pack_pdf", args=[quarter.name]))
    print("pdf seconds", time.perf_counter() - started)
    assert response.status_code == 200
    pdf = PdfReader(io.BytesIO(b"".join(response.streaming_content) if response.streaming else response.content))
    text = "\n".join(page.extract_text() for page in pdf.pages)
    print(len(pdf.pages), text[:3000])
