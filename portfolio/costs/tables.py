"""django-tables2 tables of the cost ingestion pages; the same columns are exported as CSV."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

import django_tables2 as tables
from django.middleware.csrf import get_token
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString

from portfolio.choices import RunStatus
from portfolio.costs.calculations import SourceFreshness
from portfolio.costs.forecasting import METHOD_NAMES
from portfolio.models import (
    AllocationRule,
    CostSource,
    CurrencyRate,
    IngestionRun,
    InitiativeForecast,
    reporting_currency,
)
from tollgate.formatting import EMPTY, format_percent, money_label
from tollgate.ui.tables import NUM, CountColumn, MoneyColumn, PersonColumn, YesNoColumn, ordered_ignoring_case

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations

    from portfolio.costs.selectors import SourceHealth


def status_badge(status: str, label: str) -> SafeString:
    return format_html('<strong class="status-{}">{}</strong>', status, label)


class CostSourceTable(tables.Table):
    name = tables.Column(linkify=("portfolio:costsource_detail", {"pk": tables.A("pk")}))
    type = tables.Column()
    schedule = tables.Column()
    enabled = YesNoColumn(yesno="yes,no")
    credential_env = tables.Column("Credential variable", empty_values=("",), default="—")
    rules_count = CountColumn("Rules")
    last_success_at = tables.DateTimeColumn(verbose_name="Last success", format="Y-m-d H:i", default="never")

    class Meta:
        model = CostSource
        fields = ()
        sequence: tuple[str, ...] = (
            "name", "type", "schedule", "enabled", "credential_env", "rules_count", "last_success_at"
        )
        order_by = ("name",)
        empty_text = "No cost sources yet: an administrator adds them on the Sources page (Costs → Sources)."

    def __init__(self, *args: Any, can_add: bool = False, **kwargs: Any) -> None:
        """`can_add`: the reader may add sources, so the empty table links to the page that does."""
        super().__init__(*args, **kwargs)
        if can_add:
            self.empty_text = format_html(
                'No cost sources yet: <a href="{}" id="empty-add-source">add a source</a> (or with '
                "<code>manage.py apply_cost_config</code>).", reverse("portfolio:costsource_create"))

    def render_type(self, record: CostSource) -> str:
        return record.get_type_display()

    def value_type(self, record: CostSource) -> str:
        return record.type

    order_name = ordered_ignoring_case("name")


def freshness_words(freshness: SourceFreshness | None) -> str:
    """"on time", "late: <why>", "missing 2026-10, 2026-11"; "—" for a disabled source (it owes nothing)."""
    if freshness is None:
        return "—"
    parts = []
    if freshness.late:
        parts.append(f"late: {freshness.reason}")
    if freshness.missing:
        parts.append("missing " + ", ".join(f"{month:%Y-%m}" for month in freshness.missing))
    return "; ".join(parts) or "on time"


class SourceHealthTable(CostSourceTable):
    """The health page: one row per source with its last run, last success, whether it keeps up with its schedule
    (late, months missing), rows and unallocated spend."""

    last_run_status = tables.Column("Last run", order_by=("last_run_status",), default="never run")
    last_run_rows = CountColumn("Rows written", default=0)
    freshness = tables.Column("Freshness", empty_values=(), orderable=False)
    unallocated = MoneyColumn(money_label("Unallocated this month"))
    run_now = tables.TemplateColumn(
        template_name="portfolio/costs/_run_now_cell.html", verbose_name="", orderable=False, exclude_from_export=True
    )

    def __init__(self, *args: Any, month: str = "", **kwargs: Any) -> None:
        """`month` ("2026-10"): the month whose unallocated spend the column shows (the headline's latest complete
        month), named in its heading and in the CSV export."""
        super().__init__(*args, **kwargs)
        if month:
            self.columns["unallocated"].column.verbose_name = money_label(f"Unallocated in {month}")

    class Meta(CostSourceTable.Meta):
        sequence = (
            "name", "type", "schedule", "enabled", "last_run_status", "last_success_at", "freshness",
            "last_run_rows", "unallocated", "run_now",
        )
        exclude = ("credential_env", "rules_count")

    def render_last_run_status(self, value: str, record: WithAnnotations[CostSource, SourceHealth]) -> SafeString:
        label = dict(RunStatus.choices).get(value, value)
        url = reverse("portfolio:ingestionrun_detail", args=[record.last_run_id])
        return format_html('<a href="{}">{}</a>', url, status_badge(value, label))

    def render_freshness(self, record: WithAnnotations[CostSource, SourceHealth]) -> SafeString:
        """A badge (late / months missing / on time) with the months and the reason beside it."""
        freshness = record.freshness
        if freshness is None:
            return format_html('<span class="muted">{}</span>', "disabled")
        if not freshness.stale:
            return format_html('<span class="freshness freshness-ok">{}</span>', "on time")
        badge = "late" if freshness.late else "months missing"
        missing = ", ".join(f"{month:%Y-%m}" for month in freshness.missing)
        return format_html(
            '<span class="freshness freshness-stale">{}</span>{}{}', badge,
            format_html(" missing {}", missing) if missing else "",
            format_html('<br><small class="muted">{}</small>', freshness.reason) if freshness.late else "",
        )

    def value_freshness(self, record: WithAnnotations[CostSource, SourceHealth]) -> str:
        return freshness_words(record.freshness)


class AllocationRuleTable(tables.Table):
    source = tables.Column(linkify=("portfolio:costsource_detail", {"pk": tables.A("source_id")}))
    order = tables.Column("Order", attrs=NUM)
    key = tables.Column()
    match = tables.Column()
    value = tables.Column()
    initiative = tables.Column(linkify=True)
    edit = tables.LinkColumn(
        "portfolio:allocationrule_edit", args=[tables.A("pk")], text="Edit", verbose_name="", orderable=False,
        exclude_from_export=True, empty_values=(),
    )
    move = tables.Column(verbose_name="Order", orderable=False, exclude_from_export=True, empty_values=())

    class Meta:
        model = AllocationRule
        fields = ()
        sequence = ("source", "order", "key", "match", "value", "initiative", "edit", "move")
        order_by = ("source",)
        empty_text = "No allocation rules: all spend of these sources is unallocated."

    def __init__(self, *args: Any, can_edit: bool = False, **kwargs: Any) -> None:
        if not can_edit:
            kwargs["exclude"] = (*kwargs.get("exclude", ()), "edit", "move")
        super().__init__(*args, **kwargs)

    def render_move(self, record: AllocationRule) -> SafeString:
        """Up/down buttons posting to the move view (built here: a template per cell costs queries per row)."""
        request = self.request
        label = f"rule {record.order} of {record.source}"
        return format_html(
            '<form method="post" action="{}" class="inline rule-move">'
            '<input type="hidden" name="csrfmiddlewaretoken" value="{}">'
            '<input type="hidden" name="next" value="{}">'
            '<button type="submit" name="direction" value="up" title="Try this rule earlier" '
            'aria-label="Move {} up">↑</button>'
            '<button type="submit" name="direction" value="down" title="Try this rule later" '
            'aria-label="Move {} down">↓</button></form>',
            reverse("portfolio:allocationrule_move", args=[record.pk]), get_token(request),
            request.get_full_path(), label, label,
        )

    def render_match(self, record: AllocationRule) -> str:
        return record.get_match_display()

    def value_match(self, record: AllocationRule) -> str:
        return record.match

    def render_value(self, value: str) -> SafeString:
        return format_html("<code>{}</code>", value)

    def value_value(self, value: str) -> str:
        return value

    def value_initiative(self, record: AllocationRule) -> str:
        return record.initiative.external_id

    order_source = ordered_ignoring_case("source__name", then=("order",))  # a source's rules in the order tried
    order_initiative = ordered_ignoring_case("initiative__name")


def _failed(record: IngestionRun | None) -> bool:
    """A failed run measured nothing: its figures are none ("—" on the page, an empty cell in the CSV), since its
    zeros would read as "read nothing, all of it allocated"."""
    return record is not None and record.status == RunStatus.FAILED


class RunCountColumn(CountColumn):
    """A count a run measures (rows read, written, skipped): none for a failed run."""

    def render(self, value: Any, record: IngestionRun | None = None) -> str:
        return EMPTY if _failed(record) else super().render(value)

    def value(self, value: Any, record: IngestionRun | None = None) -> Any:
        return EMPTY if _failed(record) else super().value(value)


class RunMoneyColumn(MoneyColumn):
    """An amount a run measures (its unallocated spend at reading): none for a failed run."""

    def render(self, value: Decimal, record: IngestionRun | None = None) -> str:
        return EMPTY if _failed(record) else super().render(value)

    def value(self, value: Decimal, record: IngestionRun | None = None) -> str:
        return EMPTY if _failed(record) else super().value(value)


class IngestionRunTable(tables.Table):
    created_at = tables.DateTimeColumn(
        format="Y-m-d H:i", verbose_name="When", linkify=("portfolio:ingestionrun_detail", {"pk": tables.A("pk")})
    )
    source = tables.Column()
    period = tables.DateColumn(format="Y-m")
    trigger = tables.Column()
    actor = PersonColumn("Who", default="—")
    status = tables.Column()
    rows_read = RunCountColumn("Read")
    rows_written = RunCountColumn("Written")
    rows_skipped = RunCountColumn("Skipped")
    # What the run left unallocated when it read the file, and what its source's month holds unallocated today: rules
    # added or changed since re-allocate the month's records, so the first alone would show spend the rules took.
    unallocated_amount = RunMoneyColumn(money_label("Unallocated at reading"))
    unallocated_now = MoneyColumn(money_label("Unallocated now"), orderable=False)
    finished_at = tables.DateTimeColumn(format="Y-m-d H:i", verbose_name="Finished", default="—")

    class Meta:
        model = IngestionRun
        fields = ()
        sequence = (
            "created_at", "source", "period", "trigger", "actor", "status", "rows_read", "rows_written",
            "rows_skipped", "unallocated_amount", "unallocated_now", "finished_at",
        )
        order_by = ("-created_at",)
        empty_text = "No ingestion runs match these filters."

    def render_trigger(self, record: IngestionRun) -> str:
        return record.get_trigger_display()

    def render_status(self, value: str, record: IngestionRun) -> SafeString:
        return status_badge(value, record.get_status_display())

    def value_status(self, value: str) -> str:
        return value

    def value_period(self, value: Any) -> str:
        return f"{value:%Y-%m}"

    order_source = ordered_ignoring_case("source__name")
    order_actor = ordered_ignoring_case("actor__last_name", "actor__first_name", "actor__username")


class CurrencyRateTable(tables.Table):
    currency = tables.Column()
    valid_from = tables.DateColumn(format="Y-m-d", verbose_name="Valid from")
    valid_until = tables.DateColumn(format="Y-m-d", verbose_name="Until (exclusive)", default="open")
    rate_to_reporting = tables.Column("Rate", attrs=NUM)
    updated_at = tables.DateTimeColumn(format="Y-m-d H:i", verbose_name="Last changed")
    edit = tables.LinkColumn(
        "portfolio:currencyrate_edit", args=[tables.A("pk")], text="Edit", verbose_name="", orderable=False,
        exclude_from_export=True, empty_values=(),
    )

    class Meta:
        model = CurrencyRate
        fields = ()
        sequence = ("currency", "valid_from", "valid_until", "rate_to_reporting", "updated_at", "edit")
        order_by = ("currency", "-valid_from")
        empty_text = "No currency rates: costs billed in another currency than the reporting one cannot be read."

    def __init__(self, *args: Any, can_edit: bool = False, **kwargs: Any) -> None:
        if not can_edit:
            kwargs["exclude"] = (*kwargs.get("exclude", ()), "edit")
        super().__init__(*args, **kwargs)
        self.columns["rate_to_reporting"].column.verbose_name = f"1 unit in {reporting_currency()}"

    def render_rate_to_reporting(self, value: Any) -> str:
        return f"{value.normalize():f}"

    def value_rate_to_reporting(self, value: Any) -> str:
        return f"{value.normalize():f}"


class InitiativeForecastTable(tables.Table):
    """The forecast page's initiatives: the forecast's first three months (its first quarter) and year, the Jevons
    scenario and the backtest error. `next_quarter_label` names those months as the page's figure does ("2026-Q4
    (2026-10 – 2026-12)"): "Next quarter" named the quarter already in progress."""

    external_id = tables.Column("Initiative", accessor="initiative__external_id",
                                linkify=("portfolio:initiative_detail", {"pk": tables.A("initiative_id")}))
    name = tables.Column("Name", accessor="initiative__name")
    department = tables.Column("Department", accessor="initiative__department__name")
    method = tables.Column()
    last_month = MoneyColumn("Last month")
    next_quarter = MoneyColumn("Next quarter")
    next_year = MoneyColumn("Next 12 months")
    next_year_jevons = MoneyColumn("Next 12 months, Jevons")
    backtest_mape = tables.Column("Backtest MAPE (%)", attrs=NUM, default="—")

    class Meta:
        model = InitiativeForecast
        fields = ()
        sequence = ("external_id", "name", "department", "method", "last_month", "next_quarter", "next_year",
                    "next_year_jevons", "backtest_mape")
        order_by = ("-next_quarter",)
        empty_text = "No initiative has spend to forecast."

    def __init__(self, *args: Any, next_quarter_label: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if next_quarter_label:
            self.columns["next_quarter"].column.verbose_name = next_quarter_label

    def render_method(self, value: str) -> str:
        return METHOD_NAMES.get(value, value)

    def render_backtest_mape(self, value: Any) -> str:
        return format_percent(value * 100)

    def value_backtest_mape(self, value: Any) -> str:
        return f"{value * 100:.1f}"

    order_name = ordered_ignoring_case("initiative__name")
    order_department = ordered_ignoring_case("initiative__department__name")
