"""django-tables2 tables of the portfolio pages; the same columns are exported as CSV."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import django_tables2 as tables
from django.utils.html import format_html
from django.utils.safestring import SafeString

from portfolio.costs.selectors import CostPeriods
from portfolio.models import AIModel, CostCenter, Department, Initiative, LicencePool, Vendor, reporting_currency
from portfolio.selectors import sign_in_label
from tollgate.formatting import format_percent, money_label, round_half_up
from tollgate.roles import roles_shown
from tollgate.ui.tables import (
    NUM,
    CountColumn,
    MoneyColumn,
    PersonColumn,
    TotalsRow,
    YesNoColumn,
    column_total,
    ordered_ignoring_case,
    person_name,
    totals_label,
)

# Cost columns' headers name their period and currency: they wrap rather than widen the table.
FIGURE = {"th": {"class": "num wrap"}, "td": {"class": "num"}, "tf": {"class": "num"}}


class PercentColumn(tables.Column):
    """A signed percentage: "+12.5%" on the page, the plain number in the CSV."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("attrs", FIGURE)
        super().__init__(*args, **kwargs)

    def render(self, value: float) -> str:
        return format_percent(value, signed=True)

    def value(self, value: float) -> str:
        # Rounded as the page rounds it (half up on the decimal text): a float formatted with :.1f rounds -4.55 to
        # -4.5 where the page shows -4.6%.
        rounded = round_half_up(value, 1)
        if rounded is None:
            return ""
        return str(rounded.copy_abs() if rounded == 0 else rounded)  # "0.0" as the page, not "-0.0"


class CostFiguresTable(tables.Table):
    """A table whose cost columns (portfolio.selectors.initiative_cost_annotations and the department and cost center
    sums) say in their header which month or quarter they are: "Cost 2026-09 (USD)", "Cost 2026-Q3 (USD)"."""

    cost_headers: dict[str, str] = {}  # column -> header, "{month}", "{quarter}" and "{currency}" filled in

    def __init__(self, *args: Any, periods: CostPeriods | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        month = periods.month_label if periods and periods.month else "last month"
        quarter = periods.quarter_heading if periods and periods.quarter else "last quarter"
        for name, header in self.cost_headers.items():
            self.columns[name].column.verbose_name = header.format(
                month=month, quarter=quarter, currency=reporting_currency())


class InitiativeTable(TotalsRow, CostFiguresTable):
    """The portfolio list; its totals row (portfolio.selectors.initiative_summary) sums the money columns and gives the
    set's TCO against its business cases in percent."""

    name = tables.Column(linkify=True, footer=totals_label)
    external_id = tables.Column("External id")
    department = tables.Column(linkify=True)
    owner = PersonColumn()
    stage = tables.Column()
    category = tables.Column()
    vendors = tables.ManyToManyColumn(orderable=False, transform=str)
    declared_monthly_cost = MoneyColumn(money_label("Declared monthly cost"), footer=column_total)
    start_date = tables.DateColumn(format="Y-m-d")
    cost_last_month = MoneyColumn(attrs=FIGURE, footer=column_total)
    cost_last_quarter = MoneyColumn(attrs=FIGURE, footer=column_total)
    cost_variance_pct = PercentColumn(footer=column_total)

    totals_noun = ("initiative", "initiatives")

    cost_headers = {
        "cost_last_month": "Cost {month} ({currency})",
        "cost_last_quarter": "Cost {quarter} ({currency})",
        "cost_variance_pct": "Vs business case {quarter} (%)",
    }

    class Meta:
        model = Initiative
        fields = (
            "name", "external_id", "department", "owner", "stage", "category", "vendors", "declared_monthly_cost",
            "start_date",
        )
        sequence = (*fields, "cost_last_month", "cost_last_quarter", "cost_variance_pct")
        empty_text = "No initiatives match these filters."

    def render_stage(self, record: Initiative) -> SafeString:
        return format_html('<span class="stage stage-{}">{}</span>', record.stage, record.get_stage_display())

    def value_stage(self, record: Initiative) -> str:
        return record.get_stage_display()

    def value_category(self, record: Initiative) -> str:
        return record.get_category_display()

    order_name = ordered_ignoring_case("name")
    order_department = ordered_ignoring_case("department__name")
    order_owner = ordered_ignoring_case("owner__last_name", "owner__first_name", "owner__username")


class QuarterTcoColumn(MoneyColumn):
    """A department's or cost center's TCO of the quarter, marked * when part of it is estimated from business cases,
    as the dashboard marks an estimated cost: it is not the dashboard's spend, which counts cost records only."""

    def render(self, value: Decimal, record: Any = None) -> SafeString:
        if not getattr(record, "cost_last_quarter_estimated", False):
            return format_html("{}", super().render(value))
        return format_html('{}<span title="partly estimated from business cases">*</span>', super().render(value))


# TCO of the last complete quarter against the business cases, for a department, a cost center or initiative.
ACTUAL_VS_PLAN = ("cost_last_quarter", "plan_last_quarter", "cost_variance", "cost_variance_pct")
ACTUAL_VS_PLAN_HEADERS = {
    "cost_last_quarter": "TCO {quarter} incl. estimates ({currency})",
    "plan_last_quarter": "Business cases {quarter} ({currency})",
    "cost_variance": "Variance ({currency})",
    "cost_variance_pct": "Variance (%)",
}
GROUP_TCO_HEADERS = {**ACTUAL_VS_PLAN_HEADERS,
                     "cost_last_quarter_estimated": "TCO {quarter} partly estimated"}  # the CSV's * of the page


class InitiativeCostTable(CostFiguresTable):
    """The initiatives of a department or cost center, each with the figures the department or cost center sums."""

    name = tables.Column(linkify=True)
    external_id = tables.Column("External id")
    owner = PersonColumn()
    stage = tables.Column()
    cost_last_quarter = MoneyColumn(attrs=FIGURE)
    plan_last_quarter = MoneyColumn(attrs=FIGURE)
    cost_variance = MoneyColumn(signed=True, attrs=FIGURE)
    cost_variance_pct = PercentColumn()

    cost_headers = {**ACTUAL_VS_PLAN_HEADERS, "plan_last_quarter": "Business case {quarter} ({currency})"}

    class Meta:
        model = Initiative
        fields = ("name", "external_id", "owner", "stage")
        sequence = (*fields, *ACTUAL_VS_PLAN)
        empty_text = "No initiatives."

    def render_stage(self, record: Initiative) -> SafeString:
        return format_html('<span class="stage stage-{}">{}</span>', record.stage, record.get_stage_display())

    def value_stage(self, record: Initiative) -> str:
        return record.get_stage_display()

    order_name = ordered_ignoring_case("name")
    order_owner = ordered_ignoring_case("owner__last_name", "owner__first_name", "owner__username")


class DepartmentTable(TotalsRow, CostFiguresTable):
    """The departments list; its totals row is portfolio.selectors.group_totals."""

    name = tables.Column(linkify=True, footer=totals_label)
    code = tables.Column()
    head = PersonColumn()
    initiatives_count = CountColumn("Initiatives", footer=column_total)
    cost_centers_count = CountColumn("Cost centers", footer=column_total)
    declared_monthly_cost = MoneyColumn(money_label("Declared monthly cost"), footer=column_total)
    cost_last_quarter = QuarterTcoColumn(attrs=FIGURE, footer=column_total)
    cost_last_quarter_estimated = YesNoColumn(visible=False)  # the CSV only: the page marks it *
    plan_last_quarter = MoneyColumn(attrs=FIGURE, footer=column_total)
    cost_variance = MoneyColumn(signed=True, attrs=FIGURE, footer=column_total)
    cost_variance_pct = PercentColumn(footer=column_total)

    cost_headers = GROUP_TCO_HEADERS
    totals_noun = ("department", "departments")

    class Meta:
        model = Department
        fields = ("name", "code", "head")
        sequence = ("name", "code", "head", "initiatives_count", "cost_centers_count", "declared_monthly_cost",
                    *ACTUAL_VS_PLAN, "cost_last_quarter_estimated")
        empty_text = ("No departments yet (or none match the filters): an administrator adds them with “Add "
                      "department” or by importing the inventory.")

    order_name = ordered_ignoring_case("name")
    order_head = ordered_ignoring_case("head__last_name", "head__first_name", "head__username")


class CostCenterTable(TotalsRow, CostFiguresTable):
    """The cost centers list (and a department's cost centers, without totals); its totals row is
    portfolio.selectors.group_totals."""

    code = tables.Column(linkify=True, footer=totals_label)
    name = tables.Column()
    department = tables.Column(linkify=True)
    budget_owner = PersonColumn()
    initiatives_count = CountColumn("Initiatives", footer=column_total)
    declared_monthly_cost = MoneyColumn(money_label("Declared monthly cost"), footer=column_total)
    cost_last_quarter = QuarterTcoColumn(attrs=FIGURE, footer=column_total)
    cost_last_quarter_estimated = YesNoColumn(visible=False)  # the CSV only: the page marks it *
    plan_last_quarter = MoneyColumn(attrs=FIGURE, footer=column_total)
    cost_variance = MoneyColumn(signed=True, attrs=FIGURE, footer=column_total)
    cost_variance_pct = PercentColumn(footer=column_total)

    cost_headers = GROUP_TCO_HEADERS
    totals_noun = ("cost center", "cost centers")

    class Meta:
        model = CostCenter
        fields = ("code", "name", "department", "budget_owner")
        sequence = ("code", "name", "department", "budget_owner", "initiatives_count", "declared_monthly_cost",
                    *ACTUAL_VS_PLAN, "cost_last_quarter_estimated")
        empty_text = ("No cost centers yet (or none match the filters): an administrator adds them with “Add cost "
                      "center” or by importing the inventory.")

    order_name = ordered_ignoring_case("name")
    order_department = ordered_ignoring_case("department__name")
    order_budget_owner = ordered_ignoring_case("budget_owner__last_name", "budget_owner__first_name",
                                               "budget_owner__username")


class VendorTable(tables.Table):
    name = tables.Column()
    website = tables.URLColumn()
    initiatives_count = CountColumn("Initiatives")
    models_count = CountColumn("Models")
    edit = tables.LinkColumn("portfolio:vendor_edit", args=[tables.A("pk")], text="Edit", verbose_name="",
                             orderable=False, exclude_from_export=True, empty_values=())

    class Meta:
        model = Vendor
        fields = ("name", "website")
        sequence = ("name", "website", "initiatives_count", "models_count", "edit")
        empty_text = ("No vendors yet (or none match the filters): an administrator adds one here with “Add vendor”, "
                      "or importing the inventory adds them.")

    def __init__(self, *args: Any, can_edit: bool = False, **kwargs: Any) -> None:
        if not can_edit:
            kwargs["exclude"] = (*kwargs.get("exclude", ()), "edit")
        super().__init__(*args, **kwargs)

    order_name = ordered_ignoring_case("name")


class AIModelTable(tables.Table):
    provider = tables.Column()
    name = tables.Column()
    tier = tables.Column()
    input_price_per_mtok = MoneyColumn(money_label("Input / 1M tokens"), unit_price=True)
    output_price_per_mtok = MoneyColumn(money_label("Output / 1M tokens"), unit_price=True)
    open_weights = YesNoColumn()
    context_window = tables.Column("Context window (tokens)", attrs=NUM)
    substitute = tables.Column("Acceptable substitute")
    initiatives_count = CountColumn("Initiatives")
    edit = tables.LinkColumn("portfolio:aimodel_edit", args=[tables.A("pk")], text="Edit", verbose_name="",
                             orderable=False, exclude_from_export=True, empty_values=())

    class Meta:
        model = AIModel
        fields = (
            "provider", "name", "tier", "input_price_per_mtok", "output_price_per_mtok", "open_weights",
            "context_window",
        )
        sequence = (*fields, "substitute", "initiatives_count", "edit")
        empty_text = ("No models yet (or none match the filters): an administrator adds one here with “Add model”, "
                      "or importing the inventory adds them.")

    def __init__(self, *args: Any, can_edit: bool = False, **kwargs: Any) -> None:
        if not can_edit:
            kwargs["exclude"] = (*kwargs.get("exclude", ()), "edit")
        super().__init__(*args, **kwargs)

    def render_context_window(self, value: int) -> str:
        return f"{value:,}"

    def value_context_window(self, value: int) -> int:
        return value

    def value_tier(self, record: AIModel) -> str:
        return record.get_tier_display()

    order_provider = ordered_ignoring_case("provider__name", "name")
    order_name = ordered_ignoring_case("name")
    order_substitute = ordered_ignoring_case("substitute__name")


class LicencePoolTable(tables.Table):
    tool = tables.Column()
    vendor = tables.Column()
    initiative = tables.Column(linkify=True)
    seats_purchased = CountColumn("Seats")
    price_per_seat_month = MoneyColumn(money_label("Price per seat per month"), unit_price=True)
    monthly_cost = MoneyColumn(money_label("Monthly cost"), order_by=("monthly_cost_sort",))
    seats_active = CountColumn("Active seats (30 days)", attrs=FIGURE, default="—")
    utilisation = tables.Column("Utilisation", attrs=FIGURE, default="—", order_by=("utilisation_sort",))
    seats_month = tables.DateColumn(format="Y-m", verbose_name="Seat data month", default="—",
                                    attrs={"th": {"class": "wrap"}})
    edit = tables.LinkColumn("portfolio:licencepool_edit", args=[tables.A("pk")], text="Edit", verbose_name="",
                             orderable=False, exclude_from_export=True, empty_values=())

    class Meta:
        model = LicencePool
        fields = ("tool", "vendor", "initiative", "seats_purchased", "price_per_seat_month")
        sequence = ("tool", "vendor", "initiative", "seats_purchased", "price_per_seat_month", "monthly_cost",
                    "seats_active", "utilisation", "seats_month", "edit")
        empty_text = ("No licence pools yet (or none match the filters): an administrator adds one here with “Add "
                      "licence pool”, or importing the inventory adds them (its seats_purchased column).")

    def __init__(self, *args: Any, can_edit: bool = False, **kwargs: Any) -> None:
        if not can_edit:
            kwargs["exclude"] = (*kwargs.get("exclude", ()), "edit")
        super().__init__(*args, **kwargs)

    def render_seats_active(self, value: int) -> str:
        return f"{value:,}"

    def render_utilisation(self, value: float) -> str:
        return f"{value:.1f} %"

    def value_utilisation(self, value: float) -> str:
        return f"{value:.1f}"

    def value_seats_month(self, value: Any) -> str:
        return f"{value:%Y-%m}" if value else ""

    def render_seats_purchased(self, value: int) -> str:
        return f"{value:,}"

    def value_seats_purchased(self, value: int) -> int:
        return value

    order_tool = ordered_ignoring_case("tool")
    order_vendor = ordered_ignoring_case("vendor__name")
    order_initiative = ordered_ignoring_case("initiative__name")


class PersonTable(tables.Table):
    """The People page: who has an account, with which roles, where they sit and what they own."""

    name = tables.Column("Name", accessor="last_name", empty_values=())
    email = tables.Column("E-mail")
    roles = tables.Column("Roles", empty_values=(), orderable=False)
    department = tables.Column("Department", accessor="profile__department__name", default="—")
    title = tables.Column("Title", accessor="profile__title", default="—")
    delegates = tables.Column("Delegates", empty_values=(), orderable=False)
    initiatives_owned = CountColumn("Initiatives owned")
    is_active = YesNoColumn("Active")
    last_login = tables.DateTimeColumn(format="Y-m-d H:i", verbose_name="Last sign-in", default="never")
    sign_in = tables.Column("Signs in with", empty_values=(), orderable=False)
    integration_account = YesNoColumn("Integration account", accessor="profile__integration_account")
    edit = tables.LinkColumn("portfolio:person_edit", args=[tables.A("pk")], text="Edit", verbose_name="",
                             orderable=False, exclude_from_export=True, empty_values=())

    class Meta:
        fields = ()
        sequence = ("name", "email", "roles", "department", "title", "delegates", "initiatives_owned", "is_active",
                    "last_login", "sign_in", "integration_account", "edit")
        empty_text = "No one matches these filters."

    def render_name(self, record: Any) -> str:
        return record.get_full_name() or record.get_username()

    value_name = render_name

    def render_roles(self, record: Any) -> str:
        return ", ".join(role_labels(record)) or "none"

    value_roles = render_roles

    def render_delegates(self, record: Any) -> str:
        profile = getattr(record, "profile", None)
        names = sorted(person_name(d) for d in profile.delegates.all()) if profile is not None else []
        return ", ".join(names) or "—"

    value_delegates = render_delegates

    def render_sign_in(self, record: Any) -> str:
        return sign_in_label(record)

    value_sign_in = render_sign_in

    order_name = ordered_ignoring_case("last_name", "first_name", "username")
    order_email = ordered_ignoring_case("email")
    order_department = ordered_ignoring_case("profile__department__name")
    order_title = ordered_ignoring_case("profile__title")


def role_labels(user: Any) -> list[str]:
    """The roles a person holds, as labels, from their prefetched groups (a superuser is an administrator)."""
    return [role.label for role in roles_shown(user)]


class ApiTokenTable(tables.Table):
    """The API tokens page: every token by its person and name, never its key."""

    person = tables.LinkColumn("portfolio:person_edit", args=[tables.A("user_id")], accessor="user",
                               verbose_name="Person")
    name = tables.Column("Name")
    shown_key = tables.Column("Key", orderable=False, empty_values=())
    may = tables.Column("May", order_by=("read_only",))
    kind = tables.Column("Kind", accessor="from_password", order_by=("from_password",))
    created = tables.DateTimeColumn(format="Y-m-d H:i", verbose_name="Created")
    expiry = tables.DateTimeColumn(format="Y-m-d H:i", verbose_name="Expires", default="never")
    last_used_at = tables.DateTimeColumn(format="Y-m-d H:i", verbose_name="Last used", default="never")

    class Meta:
        fields = ()
        sequence = ("person", "name", "shown_key", "may", "kind", "created", "expiry", "last_used_at")
        empty_text = "No API token matches these filters."

    def render_person(self, value: Any) -> str:
        return person_name(value)

    value_person = render_person

    def render_kind(self, value: bool) -> str:
        return "obtained with a password" if value else "named"

    value_kind = render_kind

    order_person = ordered_ignoring_case("user__last_name", "user__first_name", "user__username")
    order_name = ordered_ignoring_case("name")
