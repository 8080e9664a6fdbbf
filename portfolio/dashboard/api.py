"""GET /api/dashboard/?quarter=YYYY-Qn[&department=<id>]: the figures the dashboard page shows, as JSON."""

from __future__ import annotations

import dataclasses
from decimal import Decimal
from typing import Any

from django.core.cache import cache
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from portfolio.dashboard import selectors
from portfolio.dashboard.forms import DashboardFilterForm
from tollgate.api_body import DeclaredBodyMixin
from tollgate.permissions import RolePermission


def as_json(value: Any) -> Any:
    """Decimals as numbers (money keeps its cents), dataclasses as objects."""
    if isinstance(value, Decimal):
        return float(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        data = {f.name: as_json(getattr(value, f.name)) for f in dataclasses.fields(value)}
        if isinstance(value, selectors.Figure):
            data["change"] = as_json(value.change)
            data["change_points"] = as_json(value.change_points)
        return data
    if isinstance(value, dict):
        return {str(k): as_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [as_json(v) for v in value]
    return value


def _amount(help_text: str) -> serializers.FloatField:
    return serializers.FloatField(allow_null=True, help_text=help_text)


NO_COST_DATA = "null when no cost data was read for the quarter (a quarter in progress), not 0"
NO_REPORTS = "null without value reports of the quarter that give it"
SNAPSHOT = ("null while its app is not installed (no signals or sprawl detection); kept only as it stands now: for "
            "another quarter than the current one, as of snapshot_as_of")


def _strings(help_text: str = "") -> serializers.ListField:
    return serializers.ListField(child=serializers.CharField(), help_text=help_text)


def _amounts(help_text: str, *, allow_null: bool = False) -> serializers.ListField:
    return serializers.ListField(child=serializers.FloatField(), allow_null=allow_null, help_text=help_text)


FIGURE = inline_serializer("DashboardFigure", {
    "key": serializers.CharField(help_text=(
        "spend, unallocated, unallocated_share, value, value_per_dollar, cost_per_outcome, baseline_cost_per_outcome, "
        "running, idle_licence_cost, forecast_next_year, kill_candidates or scale_candidates")),
    "label": serializers.CharField(help_text="the figure's name as the page shows it"),
    "value": _amount("the quarter's figure; null where not available (spend and unallocated: "
                     f"{NO_COST_DATA}; value and its ratios: {NO_REPORTS})"),
    "previous": _amount("the previous quarter's (of compared_months for a quarter partly read); null where not "
                        "available or not compared (a figure kept only as it stands now has none)"),
    "change": _amount("relative change from previous, in percent (for a share too); null when either is null"),
    "change_points": _amount("a share's change in percentage points (unit percent only); null for other units or "
                             "when either value is null"),
    "unit": serializers.CharField(help_text="money, ratio, count or percent"),
    "basis": serializers.CharField(help_text="what the figure is computed from, in words (and why it is null)"),
    "url": serializers.CharField(help_text="the page behind the figure; empty where the viewer may not open it"),
    "as_of": serializers.DateField(allow_null=True, help_text=(
        "for a figure kept only as it stands now (running, the forecast, the candidates) shown for another quarter: "
        "the day it was read; null for the quarter's own figures and for the current quarter")),
})
class DashboardCandidateSerializer(serializers.Serializer):
    """A kill or scale candidate: an open or acknowledged signal, with the evidence a board member can check."""

    kind = serializers.CharField(help_text="kill or scale")
    type = serializers.CharField(help_text="the signal's rule (no_active_owner, licence_waste, scale_candidate, ...)")
    title = serializers.CharField()
    initiative_ids = serializers.ListField(child=serializers.IntegerField())
    initiatives = _strings("the initiatives' names, in the order of initiative_ids")
    severity = serializers.CharField()
    monthly_saving = _amount("what acting on it would save a month; null where the signal estimates none")
    evidence = serializers.CharField()
    url = serializers.CharField(help_text="the signal's page; empty where the viewer may not read every signal")


def _candidates(help_text: str) -> serializers.ListField:
    return serializers.ListField(child=DashboardCandidateSerializer(), allow_null=True, help_text=help_text)


FORECAST = inline_serializer("DashboardForecast", {
    "as_of": serializers.CharField(help_text="the last month (YYYY-MM) the forecast was made from"),
    "months": _strings("the next twelve months (YYYY-MM)"),
    "total": _amounts("the forecast spend of each month"),
    "lower": _amounts("the 80% interval's lower bound of each month; null for a department (bands do not add up)",
                      allow_null=True),
    "upper": _amounts("the 80% interval's upper bound of each month; null for a department", allow_null=True),
    "jevons": inline_serializer("DashboardForecastJevons", {
        "total": _amounts("each month's spend if prices fall and usage grows to match"),
        "price_decline_pct": serializers.FloatField(allow_null=True, help_text="the yearly price decline assumed"),
    }, allow_null=True, help_text="the price-decline scenario; null for a department"),
    "quarters": serializers.ListField(child=inline_serializer("DashboardForecastQuarter", {
        "quarter": serializers.CharField(),
        "total": serializers.FloatField(),
        "lower": _amount("null for a department"),
        "upper": _amount("null for a department"),
    }), help_text="the whole quarters of the forecast's months"),
    "history": serializers.ListField(child=inline_serializer("DashboardForecastHistory", {
        "month": serializers.CharField(), "amount": serializers.FloatField(),
    }), help_text="the actual spend of the twelve months before the forecast's first"),
    "next_year": serializers.FloatField(help_text="the forecast spend of its twelve months"),
    "backtest_mape": _amount("the backtest's mean absolute percentage error, as a fraction; null before a backtest"),
    "backtest_mape_pct": _amount("the same in percent; null before a backtest"),
    "url": serializers.CharField(),
}, allow_null=True, help_text="the latest stored spend forecast; null before any forecast was made")
# The whole answer, to its last key: tests/portfolio/dashboard/test_api_schema.py walks a live answer against it.
DASHBOARD_SCHEMA = inline_serializer("Dashboard", {
    "currency": serializers.CharField(),
    "quarter": serializers.CharField(),
    "previous_quarter": serializers.CharField(),
    "quarter_complete": serializers.BooleanField(help_text=(
        "whether the cost figures cover the quarter's three months (true also before any month of any quarter is "
        "complete); false for a quarter only partly read, compared like for like")),
    "months_read": serializers.ListField(child=serializers.CharField(), help_text=(
        "the quarter's complete months (YYYY-MM; a month an enabled source still owes is not one, even before a "
        "complete month: [\"2026-11\"] while a source misses October), which its cost figures (spend, unallocated, "
        "their share, the departments' spend, where the money goes, the unallocated keys) cover: all three for a "
        "whole quarter, [\"2026-10\"] when only October of 2026-Q4 is complete (what was read of November and "
        "December is left out until they are complete); [] when none is complete yet, and then the cost figures "
        "are what was read so far, compared with nothing; [] too when no cost data was read for the quarter "
        "(has_cost_data false: a quarter before the sources began reads no month, however long ago it ended)")),
    "compared_months": serializers.ListField(child=serializers.CharField(), help_text=(
        "the previous quarter's months (YYYY-MM) the cost figures' `previous` and `change` come from: the same "
        "positions as months_read ([\"2026-07\"] for [\"2026-10\"]); [] when nothing is compared")),
    "period": serializers.CharField(help_text=(
        "the quarter's figures in words: \"2026-Q4\" when whole, \"2026-Q4 to date (October)\", \"2026-Q4 "
        "(November only)\" when an earlier month is not complete, or \"2026-Q4 to date (no month complete yet)\"")),
    "compared_with": serializers.CharField(allow_null=True, help_text=(
        "what they are compared with in words: \"2026-Q3\" when whole, \"July\" (the same months of "
        "previous_quarter), null when compared with nothing")),
    "comparison_note": serializers.CharField(help_text="the sentence the page shows for a quarter partly read; "
                                                       "empty for a whole quarter"),
    "value_complete": serializers.BooleanField(help_text=(
        "whether every value report of the quarter's cycle is in; while some are still owed, `value` is of the "
        "reports in so far and the value figure's `previous` and `change` are of what the same initiatives reported "
        "for previous_quarter (value is a sum: half the reports against a finished cycle would read as a fall)")),
    "value_reports": inline_serializer("DashboardValueReports", {
        "submitted": serializers.IntegerField(help_text="the quarter's value reports submitted"),
        "expected": serializers.IntegerField(help_text="submitted plus those still owed"),
        "due_on": serializers.DateField(allow_null=True, help_text="when the quarter's review cycle is due"),
    }),
    "value_note": serializers.CharField(help_text=(
        "the sentence the page shows while reports are owed (\"37 of 73 value reports for 2026-Q3 are in; the "
        "cycle is due 14 Dec 2026. ...\"); empty once all are in")),
    "unread_months": serializers.ListField(child=serializers.CharField(), help_text=(
        "ended months (YYYY-MM) no cost source read and no enabled source owes, whatever the quarter asked: nothing "
        "says what was spent in them (the ingestion health page's \"unread\"), so figures read as current may be "
        "old: [\"2026-11\"] when a source added in December backfilled October and reads December; [] when every "
        "ended month since the first with data was read or is owed (a month owed is missing, see months_read)")),
    "unread_note": serializers.CharField(help_text=(
        "the sentence the page shows beside its data stamp while unread_months is not empty: \"2026-11 was not read "
        "by any cost source: the figures stop at 2026-10.\", or, when a later month is complete, that the figures "
        "hold no cost for them; empty otherwise")),
    "has_cost_data": serializers.BooleanField(help_text="whether any cost data was read for the quarter's months "
                                                        "read (all its months before any is complete)"),
    "spend": _amount(f"AI spend of the quarter's months read; {NO_COST_DATA}"),
    "unallocated": _amount(f"unallocated spend of the quarter's months read; {NO_COST_DATA}"),
    "value": _amount("reported value (of the reports in so far while value_complete is false); null without value "
                     "reports"),
    "idle_licence_cost": _amount("idle licence cost per month; null without seat data for the quarter"),
    "departments": serializers.ListField(child=inline_serializer("DashboardDepartment", {
        "id": serializers.IntegerField(),
        "name": serializers.CharField(),
        "spend": _amount(f"the department's spend; {NO_COST_DATA}"),
        "value": _amount("null where nobody reported"),
        "value_per_dollar": _amount("null where nobody reported a value with a cost"),
        "value_cost": _amount("the cost value per dollar divides by"),
        "value_cost_estimated": serializers.BooleanField(help_text=(
            "some part of value_cost is estimated from a business case: a report's run cost without cost records, "
            "or oversight or maintenance without records (the pages' *)")),
        "url": serializers.CharField(),
    })),
    "unallocated_keys": serializers.ListField(child=inline_serializer("DashboardUnallocatedKey", {
        "key": serializers.CharField(help_text="the key (tag:team, resource_id, ...); \"(no key)\" for no_key"),
        "value": serializers.CharField(),
        "amount": serializers.FloatField(),
        "records": serializers.IntegerField(),
        "url": serializers.CharField(help_text="the allocation rules; empty for no_key (no rule can match it)"),
        "no_key": serializers.BooleanField(help_text=(
            "the one row of the unallocated records with no key at all (no tag, account or resource)")),
        "other_keys": serializers.BooleanField(help_text=(
            "the last row, \"(other keys)\": the keys past the ten biggest together (`value` says how many)")),
    }), help_text=(
        "the biggest unallocated keys of the months read, each record under one key, one row for the records with "
        "no key and one for the keys past the ten biggest: the rows add up to `unallocated`; [] for a department")),
    "figures": serializers.ListField(child=FIGURE, help_text=(
        "the headline figures; for a quarter partly read, the cost figures' previous and change are of "
        "compared_months")),
    "department": inline_serializer("DashboardDepartmentShown", {
        "id": serializers.IntegerField(), "name": serializers.CharField(),
    }, allow_null=True, help_text="the department asked for (?department=); null for the whole portfolio"),
    "data": serializers.CharField(help_text=(
        "which cost data the figures come from, in words: \"cost data to 2026-09-30, ingestion run 70\", "
        "\"cost data of 2026-12 so far (to 2026-12-07)\", or \"no cost data yet\"")),
    "snapshot_as_of": serializers.DateField(allow_null=True, help_text=(
        "the day the figures kept only as they stand now (initiatives by stage, the candidates, sprawl, the "
        "forecast) were read, for a quarter other than the current one; null for the current quarter")),
    "value_per_dollar": _amount("reported value / the cost of the initiatives that reported it; "
                                f"{NO_REPORTS} with a cost"),
    "cost_per_outcome": _amount("cost / outcomes of each report, weighted by its cost; null without a report giving "
                                "both"),
    "baseline_cost_per_outcome": _amount("the approved business cases' cost per outcome before AI, weighted the same "
                                         "way; null where no reporting initiative has one"),
    "initiatives_by_stage": serializers.DictField(child=serializers.IntegerField(), help_text=(
        "how many initiatives are at each stage (proposed, in_review, changes_requested, approved, pilot, "
        "production, retired, rejected, killed), as they stand now")),
    "top_initiatives": serializers.ListField(child=inline_serializer("DashboardTopInitiative", {
        "id": serializers.IntegerField(),
        "external_id": serializers.CharField(),
        "name": serializers.CharField(),
        "department": serializers.CharField(allow_null=True, help_text="its department's name"),
        "stage": serializers.CharField(help_text="the stage's label"),
        "spend": serializers.FloatField(),
        "value": _amount("its reported value for the quarter; null where it reported none"),
        "url": serializers.CharField(),
    }), help_text="the initiatives that spent most over the months read, biggest first (at most 15)"),
    "spend_by_category_month": serializers.ListField(child=inline_serializer("DashboardCategoryMonth", {
        "month": serializers.CharField(help_text="YYYY-MM"),
        "category": serializers.CharField(),
        "label": serializers.CharField(),
        "amount": serializers.FloatField(),
    }), help_text="spend per month and category over the twelve months that end with the quarter"),
    "licence_utilisation": serializers.ListField(child=inline_serializer("DashboardLicencePool", {
        "pool": serializers.CharField(help_text="the licensed tool"),
        "pool_id": serializers.IntegerField(),
        "month": serializers.CharField(help_text="the latest month of the quarter with seat data (YYYY-MM)"),
        "purchased": serializers.IntegerField(),
        "active_30d": serializers.IntegerField(),
        "utilisation": _amount("active / purchased seats, in percent; null with no seat purchased"),
        "idle": serializers.IntegerField(),
        "idle_cost": serializers.FloatField(help_text="idle seats x price per seat per month"),
        "initiative": serializers.CharField(help_text="its initiative's name; empty for a pool of none"),
        "url": serializers.CharField(),
    })),
    "kill_candidates": _candidates(f"the most severe open and acknowledged kill signals; {SNAPSHOT}"),
    "scale_candidates": _candidates(f"the most severe open and acknowledged scale signals; {SNAPSHOT}"),
    "sprawl": serializers.ListField(child=inline_serializer("DashboardSprawlCluster", {
        "title": serializers.CharField(),
        "initiatives": _strings("its members' names"),
        "department_ids": serializers.ListField(child=serializers.IntegerField()),
        "monthly_spend": serializers.FloatField(),
        "monthly_saving": serializers.FloatField(),
        "basis": serializers.CharField(help_text="how the saving is estimated"),
        "url": serializers.CharField(),
        "right_elsewhere": _amount("an open cluster's: the share of pairs right among clusters of its score on "
                                   "labelled inventories; null once confirmed, or where not measured"),
    }), allow_null=True, help_text=f"the sprawl clusters with the biggest savings; {SNAPSHOT}"),
    "sprawl_track": inline_serializer("DashboardSprawlTrack", {
        "decided": serializers.IntegerField(help_text="likely clusters reviewers decided"),
        "pairs": serializers.IntegerField(),
        "right": serializers.IntegerField(),
        "precision": _amount("right / pairs; null before any decision"),
        "url": serializers.CharField(),
        "list_url": serializers.CharField(help_text="the sprawl page, which lists every cluster"),
    }, allow_null=True, help_text="how often reviewers found the sprawl detector right; null without sprawl"),
    "forecast": FORECAST,
    # The capped lists (kill_candidates, scale_candidates, sprawl, top_initiatives) say how many rows they have in
    # all and where every one is listed, as the page's "10 of 56" does.
    "kill_count": serializers.IntegerField(allow_null=True, help_text=(
        "open and acknowledged kill signals in all (kill_candidates holds the first 20); null without signals")),
    "scale_count": serializers.IntegerField(allow_null=True, help_text=(
        "scale candidates in all (scale_candidates holds the first 20); null without signals")),
    "signals_url": serializers.CharField(help_text="the signals page, which lists every candidate"),
    "sprawl_count": serializers.IntegerField(allow_null=True, help_text=(
        "open likely and confirmed sprawl clusters in all (sprawl holds the 20 largest savings); null without "
        "sprawl detection")),
    "sprawl_url": serializers.CharField(help_text="the sprawl page, which lists every cluster"),
    "top_initiatives_count": serializers.IntegerField(help_text=(
        "initiatives with spend in the months read (top_initiatives holds the 15 that spent most)")),
})


class DashboardAPIView(DeclaredBodyMixin, APIView):
    permission_classes = [RolePermission]
    permission_required = "portfolio.view_dashboard"

    @extend_schema(
        parameters=[
            OpenApiParameter("quarter", OpenApiTypes.STR,
                             description="YYYY-Qn, one that has begun; default the last complete quarter."),
            OpenApiParameter("department", OpenApiTypes.INT, description="Department id; default all."),
        ],
        responses={200: DASHBOARD_SCHEMA},
        description="The dashboard's figures for a quarter: spend and unallocated (the sums of cost_report over the "
                    "quarter's months), value, value per AI dollar, cost per outcome against the baseline, "
                    "initiatives by stage, idle licence cost, departments, spend by category and month, kill and "
                    "scale candidates, sprawl and the forecast. Amounts in `currency`; null where not available: for a "
                    "quarter no cost data was read for yet `has_cost_data` is false and spend, unallocated, the "
                    "departments' spend and the changes are null, not 0 and -100%. A quarter only partly read (a "
                    "source still owes a month of it) is compared like for like: its cost figures cover its "
                    "complete months (`months_read`) against the same months of the previous quarter "
                    "(`compared_months`), in words `period` against `compared_with`. A quarter whose value "
                    "reports are not all in yet (`value_complete` false) compares its value with what the same "
                    "initiatives reported for the previous quarter (`value_note`). Ended months no cost source "
                    "read and none owes are named in `unread_months` and `unread_note`: the figures say nothing of "
                    "them. "
                    "Initiatives by stage, the candidates, sprawl and the forecast are kept only as they stand now: "
                    "for a quarter other than the current one `snapshot_as_of` (and each such figure's `as_of`) is "
                    "the day they were read, null for the current quarter. A quarter that has not begun is a 400.",
    )
    def get(self, request: Request) -> HttpResponse:
        form = DashboardFilterForm(request.query_params)
        if not form.is_valid():
            raise ValidationError({field: [str(e) for e in errors] for field, errors in form.errors.items()})
        quarter = form.cleaned_data.get("quarter") or selectors.default_quarter_cached()
        department = form.cleaned_data.get("department")
        if not isinstance(request.accepted_renderer, JSONRenderer):  # the browsable API renders it itself
            return Response(as_json(selectors.dashboard(quarter=quarter, department=department)))
        # The JSON is kept per quarter, department and data version, as the page keeps its rendered body.
        key = f"dashboard:json:{selectors.board_key(quarter, department)}"
        body = cache.get(key)
        if body is None:
            board = as_json(selectors.dashboard(quarter=quarter, department=department))
            body = request.accepted_renderer.render(board, request.accepted_media_type)
            cache.set(key, body, selectors.CACHE_SECONDS)
        return HttpResponse(body, content_type="application/json")
