"""django-tables2 tables of the portfolio pages; the same columns are exported as CSV."""

from __future__ import annotations

from decimal import Decimal

import django_tables2 as tables
from django.utils.html import format_html
from django.utils.safestring import SafeString

from portfolio.models import AIModel, CostCenter, Department, Initiative, LicencePool, Vendor

NUM = {"th": {"class": "num"}, "td": {"class": "num"}}


def person_name(user) -> str:
    if user is None:
        return ""
    return user.get_full_name() or user.get_username()


def _places(value: Decimal) -> int:
    """Cents at least, more only when the amount has them (a price of 0.0125 per token stays exact)."""
    exponent = Decimal(value).normalize().as_tuple().exponent
    return max(2, -exponent) if isinstance(exponent, int) else 2


class MoneyColumn(tables.Column):
    """Right-aligned amount with thousands separators on the page, the plain number in the CSV."""

    def __init__(self, *args, places: int | None = None, **kwargs):
        kwargs.setdefault("attrs", NUM)
        self.places = places  # fixed decimals (totals in cents); by default as many as the amount has
        super().__init__(*args, **kwargs)

    def render(self, value: Decimal) -> str:
        return f"{value:,.{self.places or _places(value)}f}"

    def value(self, value: Decimal) -> str:
        return f"{value:.{self.places or _places(value)}f}"


class CountColumn(tables.Column):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("attrs", NUM)
        super().__init__(*args, **kwargs)


class PersonColumn(tables.Column):
    def render(self, value) -> str:
        return person_name(value)

    def value(self, value) -> str:
        return person_name(value)


class InitiativeTable(tables.Table):
    name = tables.Column(linkify=True)
    external_id = tables.Column("External id")
    department = tables.Column(linkify=True)
    owner = PersonColumn(order_by=("owner__last_name", "owner__first_name"))
    stage = tables.Column()
    category = tables.Column()
    vendors = tables.ManyToManyColumn(orderable=False, transform=str)
    declared_monthly_cost = MoneyColumn("Declared monthly cost (USD)")
    start_date = tables.DateColumn(format="Y-m-d")

    class Meta:
        model = Initiative
        fields = (
            "name", "external_id", "department", "owner", "stage", "category", "vendors", "declared_monthly_cost",
            "start_date",
        )
        empty_text = "No initiatives match these filters."

    def render_stage(self, record: Initiative) -> SafeString:
        return format_html('<span class="stage stage-{}">{}</span>', record.stage, record.get_stage_display())

    def value_stage(self, record: Initiative) -> str:
        return record.get_stage_display()

    def value_category(self, record: Initiative) -> str:
        return record.get_category_display()


class DepartmentTable(tables.Table):
    name = tables.Column(linkify=True)
    code = tables.Column()
    head = PersonColumn(order_by=("head__last_name", "head__first_name"))
    initiatives_count = CountColumn("Initiatives")
    cost_centers_count = CountColumn("Cost centers")
    declared_monthly_cost = MoneyColumn("Declared monthly cost (USD)")

    class Meta:
        model = Department
        fields = ("name", "code", "head")
        sequence = ("name", "code", "head", "initiatives_count", "cost_centers_count", "declared_monthly_cost")


class CostCenterTable(tables.Table):
    code = tables.Column(linkify=True)
    name = tables.Column()
    department = tables.Column(linkify=True)
    budget_owner = PersonColumn(order_by=("budget_owner__last_name", "budget_owner__first_name"))
    initiatives_count = CountColumn("Initiatives")
    declared_monthly_cost = MoneyColumn("Declared monthly cost (USD)")

    class Meta:
        model = CostCenter
        fields = ("code", "name", "department", "budget_owner")
        sequence = ("code", "name", "department", "budget_owner", "initiatives_count", "declared_monthly_cost")


class VendorTable(tables.Table):
    name = tables.Column()
    website = tables.URLColumn()
    initiatives_count = CountColumn("Initiatives")
    models_count = CountColumn("Models")

    class Meta:
        model = Vendor
        fields = ("name", "website")
        sequence = ("name", "website", "initiatives_count", "models_count")


class AIModelTable(tables.Table):
    provider = tables.Column(order_by=("provider__name",))
    name = tables.Column()
    tier = tables.Column()
    input_price_per_mtok = MoneyColumn("Input / 1M tokens (USD)")
    output_price_per_mtok = MoneyColumn("Output / 1M tokens (USD)")
    open_weights = tables.BooleanColumn()
    context_window = tables.Column("Context window (tokens)", attrs=NUM)
    initiatives_count = CountColumn("Initiatives")

    class Meta:
        model = AIModel
        fields = (
            "provider", "name", "tier", "input_price_per_mtok", "output_price_per_mtok", "open_weights",
            "context_window",
        )
        sequence = (*fields, "initiatives_count")

    def render_context_window(self, value: int) -> str:
        return f"{value:,}"

    def value_context_window(self, value: int) -> int:
        return value

    def value_tier(self, record: AIModel) -> str:
        return record.get_tier_display()


class LicencePoolTable(tables.Table):
    tool = tables.Column()
    vendor = tables.Column(order_by=("vendor__name",))
    initiative = tables.Column(linkify=True, order_by=("initiative__name",))
    seats_purchased = CountColumn("Seats")
    price_per_seat_month = MoneyColumn("Price per seat per month (USD)")
    monthly_cost = MoneyColumn("Monthly cost (USD)", order_by=("monthly_cost_sort",))

    class Meta:
        model = LicencePool
        fields = ("tool", "vendor", "initiative", "seats_purchased", "price_per_seat_month")
        sequence = ("tool", "vendor", "initiative", "seats_purchased", "price_per_seat_month", "monthly_cost")

    def render_seats_purchased(self, value: int) -> str:
        return f"{value:,}"

    def value_seats_purchased(self, value: int) -> int:
        return value

