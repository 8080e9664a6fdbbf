"""One filterset per reviews resource: the review pages and the API select the same rows for the same query string."""

from __future__ import annotations

import pytest
from django.utils import timezone

from reviews.choices import Decision, ReportStatus
from reviews.models import Notification, Verdict
from tests.factories import DepartmentFactory, InitiativeFactory, ReviewCycleFactory, ValueReportFactory
from tests.page_and_api import assert_page_and_api_agree

pytestmark = pytest.mark.django_db


@pytest.fixture
def cycle_reports(reviewer):
    cycle = ReviewCycleFactory(name="2026-Q3")
    finance = DepartmentFactory(name="Finance")
    invoice = InitiativeFactory(name="Invoice reader", department=finance, stage="pilot")
    ValueReportFactory(cycle=cycle, initiative=invoice, status=ReportStatus.SUBMITTED)
    judged = ValueReportFactory(cycle=cycle, status=ReportStatus.SUBMITTED)
    Verdict.objects.create(report=judged, reviewer=reviewer, decision=Decision.CONTINUE, rationale="Fine.")
    ValueReportFactory(cycle=cycle)  # a draft
    ValueReportFactory(cycle=ReviewCycleFactory(name="2026-Q2"))  # another cycle
    return {"cycle": cycle, "finance": finance, "invoice": invoice}


def test_value_reports_of_a_cycle(client, api_client, admin_user, cycle_reports):
    d = cycle_reports
    cycle = {"cycle": d["cycle"].pk}
    assert_page_and_api_agree(
        client, api_client, admin_user, f"/reviews/cycles/{d['cycle'].pk}/", "/api/reviews/reports/", [
            cycle, {**cycle, "q": "invoice"}, {**cycle, "status": ReportStatus.DRAFT},
            {**cycle, "department": d["finance"].pk}, {**cycle, "initiative": d["invoice"].pk},
            {**cycle, "cycle__name": "2026-q3"}, {**cycle, "awaiting_verdict": "true"},
            {**cycle, "awaiting_verdict": "false"},
        ])


def test_review_cycles(client, api_client, admin_user, cycle_reports):
    assert_page_and_api_agree(client, api_client, admin_user, "/reviews/cycles/", "/api/reviews/cycles/",
                              [{"q": "Q2"}])


def test_notifications(client, api_client, admin_user):
    Notification.objects.create(user=admin_user, message="Report due for Invoice reader")
    Notification.objects.create(user=admin_user, message="Verdict on Ticket summariser", read_at=timezone.now())
    assert_page_and_api_agree(client, api_client, admin_user, "/reviews/notifications/", "/api/reviews/notifications/",
                              [{"q": "verdict"}, {"unread": "true"}, {"unread": "false"}, {"unread": "True"}])
