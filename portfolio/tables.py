"""django-tables2 tables of the portfolio pages; the same columns are exported as CSV."""

from __future__ import annotations

import django_tables2 as tables
from django.utils.html import format_html
from django.utils.safestring import SafeString

from portfolio.models import AIModel, CostCenter, Department, Initiative, LicencePool, Vendor
from tollgate.ui.tables import NUM, CountColumn, MoneyColumn, PersonColumn


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
    substitute = tables.Column("Acceptable substitute", order_by=("substitute__name",))
    initiatives_count = CountColumn("Initiatives")

    class Meta:
        model = AIModel
        fields = (
            "provider", "name", "tier", "input_price_per_mtok", "output_price_per_mtok", "open_weights",
            "context_window",
        )
        sequence = (*fields, "substitute", "initiatives_count")

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

