"""Names on every list sort as people read them, whatever their case, on every database (tollgate.ui.tables
ordered_ignoring_case): SQLite compares bytes, so "apple" came after "Zebra". On the page both ways, and in its CSV
export, which goes through the same table."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from auditlog.context import set_actor
from django.urls import reverse
from django.utils import timezone

from governance.choices import SprawlConfidence
from portfolio.choices import Stage
from portfolio.costs.services.forecast import forecast_compute
from portfolio.models import ApiToken, ImportRun, Profile
from reviews.choices import ReportStatus
from reviews.models import ReviewCycle
from tests.factories import (
    AIModelFactory,
    CostCenterFactory,
    DepartmentFactory,
    InitiativeFactory,
    IntakeSubmissionFactory,
    LicencePoolFactory,
    ReviewCycleFactory,
    RubricCriterionFactory,
    UserFactory,
    ValueReportFactory,
    VendorFactory,
)
from tests.governance.sprawl.factories import InitiativeUseCaseFactory, SprawlClusterFactory, UseCaseFactory
from tests.portfolio.costs.factories import AllocationRuleFactory, CostSourceFactory, IngestionRunFactory
from tests.portfolio.costs.forecast_data import TODAY, spend

pytestmark = pytest.mark.django_db

MADE = ("Zebra", "cherry", "apple", "Banana")  # in this order: neither the key nor the bytes give the order read
READ = ["apple", "Banana", "cherry", "Zebra"]


def person(text: str) -> Any:
    """Someone whose name, as the pages print it, is `text`."""
    return UserFactory(username=f"{text}@example.com", first_name="", last_name=text)


def department(text: str) -> Any:
    return DepartmentFactory(name=text)


def initiative(text: str, **fields: Any) -> Any:
    return InitiativeFactory(name=text, **fields)


CYCLE = "2026-Q3"
USE_CASE = "summarise-documents"


def the_cycle() -> list[int]:
    return [ReviewCycle.objects.get(name=CYCLE).pk]


def cycle_report(**initiative_fields: Any) -> Any:
    return ValueReportFactory(cycle=ReviewCycleFactory(name=CYCLE),
                              initiative=InitiativeFactory(stage=Stage.PILOT, **initiative_fields))


def submitted_report(**initiative_fields: Any) -> Any:
    return ValueReportFactory(initiative=InitiativeFactory(stage=Stage.PILOT, **initiative_fields),
                              status=ReportStatus.SUBMITTED, submitted_at=timezone.now())


def in_review(**initiative_fields: Any) -> Any:
    RubricCriterionFactory(name="Strategic fit")  # something left to score, so the intake waits in the queue
    return IntakeSubmissionFactory(initiative=InitiativeFactory(stage=Stage.IN_REVIEW, **initiative_fields))


def forecast_of(**initiative_fields: Any) -> Any:
    spend(InitiativeFactory(**initiative_fields), [100.0] * 12)
    return forecast_compute(price_decline_pct=Decimal("60"), today=TODAY)


def linked_to_use_case(**initiative_fields: Any) -> Any:
    return InitiativeUseCaseFactory(use_case=UseCaseFactory(code=USE_CASE),
                                    initiative=InitiativeFactory(**initiative_fields))


def logged(text: str) -> Any:
    with set_actor(person(text)):
        return VendorFactory(name=f"Bought by {text}")


def profile(**fields: Any) -> Any:
    return Profile.objects.filter(user=UserFactory()).update(**fields)


@dataclass(frozen=True)
class Page:
    url: str
    column: str
    make: Callable[[str, Any], Any]  # a record whose `column` shows the text, for the user who reads the page
    shown: str = "{}"  # what the cell shows for the text
    csv: bool = True  # the page exports its rows
    args: Callable[[], list[Any]] | None = None  # the URL's arguments, once the records exist
    query: tuple[tuple[str, str], ...] = ()  # filters keeping out what the database holds beside the records made
    reader: str = "admin_user"  # who reads the page

    def address(self) -> str:
        return reverse(self.url, args=self.args() if self.args else None)


PAGES = [
    # Portfolio
    Page("portfolio:initiative_list", "department", lambda t, user: InitiativeFactory(department=department(t))),
    Page("portfolio:initiative_list", "owner", lambda t, user: InitiativeFactory(owner=person(t))),
    Page("portfolio:department_list", "name", lambda t, user: department(t)),
    Page("portfolio:department_list", "head", lambda t, user: DepartmentFactory(head=person(t))),
    Page("portfolio:costcenter_list", "name", lambda t, user: CostCenterFactory(name=t)),
    Page("portfolio:costcenter_list", "department", lambda t, user: CostCenterFactory(department=department(t))),
    Page("portfolio:costcenter_list", "budget_owner", lambda t, user: CostCenterFactory(budget_owner=person(t))),
    Page("portfolio:vendor_list", "name", lambda t, user: VendorFactory(name=t)),
    Page("portfolio:aimodel_list", "provider", lambda t, user: AIModelFactory(provider=VendorFactory(name=t))),
    Page("portfolio:aimodel_list", "name", lambda t, user: AIModelFactory(name=t)),
    Page("portfolio:aimodel_list", "substitute", lambda t, user: AIModelFactory(substitute=AIModelFactory(name=t))),
    Page("portfolio:licencepool_list", "tool", lambda t, user: LicencePoolFactory(tool=t)),
    Page("portfolio:licencepool_list", "vendor", lambda t, user: LicencePoolFactory(vendor=VendorFactory(name=t))),
    Page("portfolio:licencepool_list", "initiative", lambda t, user: LicencePoolFactory(initiative=initiative(t))),
    Page("portfolio:person_list", "name", lambda t, user: person(t)),
    Page("portfolio:person_list", "email", lambda t, user: person(t), shown="{}@example.com"),
    Page("portfolio:person_list", "department", lambda t, user: profile(department=department(t))),
    Page("portfolio:person_list", "title", lambda t, user: profile(title=t)),
    Page("portfolio:apitoken_list", "person",
         lambda t, user: ApiToken.objects.create(user=person(t), expiry=timedelta(days=90), name="Reporting")),
    Page("portfolio:apitoken_list", "name",
         lambda t, user: ApiToken.objects.create(user=user, expiry=timedelta(days=90), name=t)),
    Page("portfolio:import_list", "actor",  # the account, which the CSV names it by
         lambda t, user: ImportRun.objects.create(actor=person(t), filename="inventory.csv"), shown="{}@example.com"),
    Page("portfolio:import_list", "filename", lambda t, user: ImportRun.objects.create(actor=user, filename=t)),
    # Costs
    Page("portfolio:costsource_list", "name", lambda t, user: CostSourceFactory(name=t)),
    Page("portfolio:allocationrule_list", "source",
         lambda t, user: AllocationRuleFactory(source=CostSourceFactory(name=t))),
    Page("portfolio:allocationrule_list", "initiative",  # the CSV names it by its external id: the same here
         lambda t, user: AllocationRuleFactory(initiative=initiative(t, external_id=t))),
    Page("portfolio:ingestionrun_list", "source",
         lambda t, user: IngestionRunFactory(source=CostSourceFactory(name=t))),
    Page("portfolio:ingestionrun_list", "actor", lambda t, user: IngestionRunFactory(actor=person(t))),
    Page("portfolio:cost_forecast", "name", lambda t, user: forecast_of(name=t)),
    Page("portfolio:cost_forecast", "department", lambda t, user: forecast_of(department=department(t))),
    # Reviews
    Page("reviews:cycle_list", "name", lambda t, user: ReviewCycleFactory(name=t)),
    Page("reviews:cycle_detail", "initiative", lambda t, user: cycle_report(name=t), args=the_cycle),
    Page("reviews:cycle_detail", "department", lambda t, user: cycle_report(department=department(t)), args=the_cycle),
    Page("reviews:cycle_detail", "owner", lambda t, user: cycle_report(owner=person(t)), args=the_cycle),
    Page("reviews:queue", "initiative", lambda t, user: submitted_report(name=t), reader="reviewer"),
    Page("reviews:queue", "department", lambda t, user: submitted_report(department=department(t)), reader="reviewer"),
    Page("reviews:queue", "owner", lambda t, user: submitted_report(owner=person(t)), reader="reviewer"),
    Page("reviews:mine", "name", lambda t, user: initiative(t, owner=user)),
    Page("reviews:mine", "department", lambda t, user: InitiativeFactory(owner=user, department=department(t))),
    # Governance
    Page("governance:queue", "name", lambda t, user: in_review(name=t), reader="reviewer"),
    Page("governance:queue", "department", lambda t, user: in_review(department=department(t)), reader="reviewer"),
    Page("governance:queue", "owner", lambda t, user: in_review(owner=person(t)), reader="reviewer"),
    Page("governance:audit", "actor", lambda t, user: logged(t)),
    Page("governance:audit", "object_repr", lambda t, user: VendorFactory(name=t), shown="Vendor: {}"),
    Page("governance:rubric", "name", lambda t, user: RubricCriterionFactory(name=t), csv=False),
    Page("governance:sprawl_list", "title",
         lambda t, user: SprawlClusterFactory(title=t, confidence=SprawlConfidence.LIKELY)),
    Page("governance:sprawl_list", "use_case",
         lambda t, user: SprawlClusterFactory(use_case=UseCaseFactory(name=t), confidence=SprawlConfidence.LIKELY)),
    Page("governance:usecase_list", "name", lambda t, user: UseCaseFactory(name=t),
         query=(("q", "Does one job for the business"),)),  # the factory's, not the catalogue's
    Page("governance:usecase_detail", "initiative", lambda t, user: linked_to_use_case(name=t), csv=False,
         args=lambda: [USE_CASE]),
    Page("governance:usecase_detail", "department", lambda t, user: linked_to_use_case(department=department(t)),
         csv=False, args=lambda: [USE_CASE]),
    Page("governance:usecase_detail", "owner", lambda t, user: linked_to_use_case(owner=person(t)), csv=False,
         args=lambda: [USE_CASE]),
]


def _shown(page: Page, cells: list[Any]) -> list[str]:
    """The cells that show one of the texts made, in the order listed (other rows: the people and records the
    fixtures make)."""
    wanted = {page.shown.format(text) for text in MADE}
    return [str(cell) for cell in cells if str(cell) in wanted]


@pytest.mark.parametrize("page", [pytest.param(page, id=f"{page.url}-{page.column}") for page in PAGES])
def test_names_sort_ignoring_case_on_the_page_and_in_its_export(request, login, page):
    reader = request.getfixturevalue(page.reader)
    for text in MADE:
        page.make(text, reader)
    client = login(reader)
    url = page.address()
    read = [page.shown.format(text) for text in READ]

    for sort, expected in ((page.column, read), (f"-{page.column}", read[::-1])):
        response = client.get(url, {**dict(page.query), "sort": sort})
        assert response.status_code == 200
        table = response.context["table"]
        assert _shown(page, [row.get_cell_value(page.column) for row in table.paginated_rows]) == expected, sort

        if page.csv:
            export = client.get(url, {**dict(page.query), "sort": sort, "_export": "csv"})
            assert export["Content-Type"].startswith("text/csv")
            header, *body = csv.reader(io.StringIO(export.content.decode("utf-8-sig")))
            at = header.index(str(table.columns[page.column].header))
            assert _shown(page, [row[at] for row in body]) == expected, f"CSV, {sort}"


@pytest.mark.parametrize("column, make", [("title", lambda t: profile(title=t)),
                                          ("department", lambda t: profile(department=department(t)))])
def test_a_row_without_one_comes_last_either_way(login, admin_user, column, make):
    """A blank title or no department at all: last whichever way, on SQLite (NULL first) as on PostgreSQL."""
    for text in MADE:
        make(text)
    UserFactory()  # neither
    client = login(admin_user)

    for sort, named in ((column, READ), (f"-{column}", READ[::-1])):
        table = client.get(reverse("portfolio:person_list"), {"sort": sort}).context["table"]
        cells = [row.get_cell_value(column) for row in table.paginated_rows]
        assert cells[:len(MADE)] == named and set(cells[len(MADE):]) == {None}, sort


def test_every_yes_or_no_column_exports_yes_or_no_not_true_or_false():
    """django-tables2's BooleanColumn writes "True" and "False" into a CSV; every list's yes-or-no column is a
    YesNoColumn, which writes "Yes" and "No", as the page reads."""
    import importlib

    import django_tables2 as tables
    from django.apps import apps

    from tollgate.ui.tables import YesNoColumn

    for config in apps.get_app_configs():
        for module in ("tables", "views", "costs.tables", "sprawl.tables", "signals.tables", "views.imports"):
            try:
                importlib.import_module(f"{config.name}.{module}")
            except ModuleNotFoundError:
                pass

    def every(cls: type) -> list[type]:
        return [cls, *[s for sub in cls.__subclasses__() for s in every(sub)]]

    ours = [t for t in every(tables.Table) if t.__module__.split(".")[0] in {"portfolio", "governance", "reviews",
                                                                             "tollgate"}]
    assert len(ours) > 20  # the walk found the site's tables
    wrong = [f"{table.__module__}.{table.__name__}.{name}" for table in ours
             for name, column in table.base_columns.items()
             if isinstance(column, tables.BooleanColumn) and not isinstance(column, YesNoColumn)]
    assert not wrong, f"BooleanColumn exports True/False: {wrong}"
