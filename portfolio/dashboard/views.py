"""The dashboard page: headline figures, charts with their numbers, tables with CSV export; it changes nothing."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import render
from django.utils.functional import SimpleLazyObject
from django.views.generic import TemplateView
from django_weasyprint import WeasyTemplateResponseMixin

from portfolio.calculations import Quarter
from portfolio.dashboard import charts, selectors
from portfolio.dashboard.forms import DashboardFilterForm, quarters_with_data
from portfolio.dashboard.pdf import PrintedOnceResponse
from portfolio.models import Department
from tollgate.roles import may
from tollgate.ui.exports import csv_download
from tollgate.ui.views import PermissionRequiredMixin

# ?_export=<name> -> (file name, columns as (header, key)); each table of the page exports its rows.
EXPORTS: dict[str, list[tuple[str, str]]] = {
    "figures": [("Figure", "label"), ("Value", "value"), ("Previous quarter", "previous"), ("Change %", "change"),
                ("Change (points)", "change_points"), ("Computed from", "basis")],
    "departments": [("Department", "name"), ("Spend", "spend"), ("Value", "value"),
                    ("Value per AI dollar", "value_per_dollar"), ("Cost behind value per dollar", "value_cost"),
                    ("That cost partly estimated", "value_cost_estimated")],
    "top_initiatives": [("Initiative", "name"), ("Id", "external_id"), ("Department", "department"),
                        ("Stage", "stage"), ("Spend", "spend"), ("Reported value", "value")],
    "spend_by_category_month": [("Month", "month"), ("Category", "label"), ("Amount", "amount")],
    "licence_utilisation": [("Pool", "pool"), ("Initiative", "initiative"), ("Month", "month"),
                            ("Seats purchased", "purchased"), ("Active in 30 days", "active_30d"),
                            ("Utilisation %", "utilisation"), ("Idle seats", "idle"),
                            ("Idle cost / month", "idle_cost")],
    "kill_candidates": [("Signal", "title"), ("Initiatives", "initiatives"), ("Severity", "severity"),
                        ("Monthly saving", "monthly_saving"), ("Evidence", "evidence")],
    "scale_candidates": [("Signal", "title"), ("Initiatives", "initiatives"), ("Severity", "severity"),
                         ("Monthly saving", "monthly_saving"), ("Evidence", "evidence")],
    "sprawl": [("Cluster", "title"), ("Initiatives", "initiatives"), ("Monthly spend", "monthly_spend"),
               ("Monthly saving", "monthly_saving"), ("Right elsewhere", "right_elsewhere"),
               ("Saving basis", "basis")],
    "unallocated_keys": [("Key", "key"), ("Value", "value"), ("Amount", "amount"), ("Records", "records")],
}
# Tables kept only as they stand now: for a quarter other than the current one, each row says the day it was read, as
# the page does (selectors.snapshot_day); the figures say it per figure.
SNAPSHOT_TABLES = {"kill_candidates", "scale_candidates", "sprawl"}
AS_OF = ("As of", "as_of")


def _cell(row: Any, key: str) -> Any:
    value = row.get(key) if isinstance(row, dict) else getattr(row, key, "")
    if isinstance(value, (tuple, list)):
        return "; ".join(str(v) for v in value)
    return "" if value is None else value


class DashboardView(PermissionRequiredMixin, TemplateView):
    """Every role reads it; executives land here."""

    permission_required = "portfolio.view_dashboard"
    template_name = "portfolio/dashboard.html"

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        form = DashboardFilterForm(request.GET or None)
        if request.GET and not form.is_valid():
            response = self.render_to_response({"form": form, "quarters": quarters_with_data(), "board": None,
                                                "quarter_text": request.GET.get("quarter", ""), "cache_seconds": 0,
                                                "fragment_key": ""})
            response.status_code = 400
            return response
        cleaned = form.cleaned_data if request.GET else {}
        quarter = cleaned.get("quarter") or selectors.default_quarter_cached()
        department = cleaned.get("department")
        export = request.GET.get("_export")
        if export:
            return self.export(export, selectors.dashboard(quarter=quarter, department=department),
                               quarter=quarter, department=department)
        # Everything below the navigation is rendered from the cache while the data stays the same (the template's
        # cache block), so the figures and charts are computed only when the fragment is missing: lazily. Links go
        # only where the viewer may follow them, so the fragment is kept per kind of viewer too.
        costs = may(request.user, "portfolio.view_costsource")
        signals = may(request.user, "governance.view_every_signal")
        board = SimpleLazyObject(lambda: selectors.viewer_links(
            selectors.dashboard(quarter=quarter, department=department), costs=costs, signals=signals))
        return self.render_to_response(self.get_context_data(
            form=form, board=board, quarter=quarter, quarter_text=quarter.name, cache_seconds=selectors.CACHE_SECONDS,
            may_view_costs=costs,
            fragment_key=f"{selectors.board_key(quarter, department)}:links-{int(costs)}{int(signals)}"))

    def export(self, name: str, board: dict[str, Any], *, quarter: Quarter,
               department: Department | None) -> HttpResponse:
        columns = EXPORTS.get(name)
        if columns is None:
            return HttpResponseBadRequest(f"Unknown table {name!r}; one of: {', '.join(EXPORTS)}.")
        # Every row of the list, not the page's first ones: the file is the whole list the page says "N of".
        full = selectors.full_rows(name, board, quarter=quarter, department=department)
        rows = (full if full is not None else board.get(name)) or []
        if name == "figures":
            # A quarter only partly read is compared with the same months of the previous one: the column is headed
            # with them, as the page says ("July"), not "Previous quarter".
            compared = None if board.get("quarter_complete", True) else board.get("compared_with")
            columns = [(compared, key) if compared and key == "previous" else (header, key)
                       for header, key in columns]
            columns = [*columns, AS_OF]
            rows = [{"label": f.label, "value": f.value, "previous": f.previous, "change": f.change,
                     "change_points": f.change_points, "basis": f.basis, "as_of": f.as_of} for f in rows]
        elif name in SNAPSHOT_TABLES:
            rows = [{**{key: _cell(row, key) for _, key in columns}, "as_of": board["snapshot_as_of"]}
                    for row in rows]
            columns = [*columns, AS_OF]
        return csv_download(f"dashboard-{board['quarter']}-{name}.csv", [header for header, _ in columns],
                            ([_cell(row, key) for _, key in columns] for row in rows))

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        board = context["board"]
        context.update(
            quarters=SimpleLazyObject(quarters_with_data),
            charts=SimpleLazyObject(lambda: self.charts(board)),
            monthly_totals=SimpleLazyObject(lambda: selectors.monthly_totals(board["spend_by_category_month"])),
            stage_rows=SimpleLazyObject(lambda: selectors.stage_rows(board["initiatives_by_stage"])),
        )
        return context

    def charts(self, board: dict[str, Any]) -> dict[str, Any]:
        currency = board["currency"]
        return {
            "spend": charts.spend_by_category(board["spend_by_category_month"], currency),
            "departments": charts.spend_and_value_by_department(board["departments"], currency),
            "licences": charts.licence_utilisation(board["licence_utilisation"]),
            "forecast": charts.forecast(board["forecast"], currency),
        }


class BoardPackView(PermissionRequiredMixin, TemplateView):
    """The print-ready pack of one quarter; the same template is rendered to PDF by BoardPackPdfView."""

    permission_required = "portfolio.view_dashboard"
    template_name = "portfolio/board_pack.html"

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        # A quarter still to come is refused as the dashboard refuses it (400 naming it), the PDF too: a pack of it
        # would show zeros and today's candidates under its heading.
        refused = selectors.quarter_not_begun(kwargs["quarter"])
        if refused:
            return render(request, "portfolio/board_pack_refused.html",
                          {"quarter": kwargs["quarter"], "reason": refused}, status=400)
        return super().get(request, *args, **kwargs)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context.update(pack=selectors.board_pack(quarter=kwargs["quarter"]), pdf=False)
        return context


class BoardPackPdfView(WeasyTemplateResponseMixin, BoardPackView):
    """The board pack as a PDF, generated on the server by WeasyPrint (charts are inline SVG: nothing is fetched)."""

    response_class = PrintedOnceResponse
    pdf_attachment = True

    def get_pdf_filename(self) -> str:
        return f"tollgate-board-pack-{self.kwargs['quarter']}.pdf"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["pdf"] = True
        return context
