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
# The shape of the answer where it matters to a client: the money figures and when they are null. The other parts
# (figures, tables, forecast) are objects and lists as the README shows them.
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
        "are what was read so far, compared with nothing")),
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
    "figures": serializers.ListField(child=serializers.DictField(), help_text=(
        "headline figures: key, label, value, previous, change (relative, in percent; for a share too), "
        "change_points (a share's change in percentage points, unit percent only, else null), unit, basis, url, "
        "as_of; "
        f"value, previous and change null where not available (spend and unallocated: {NO_COST_DATA}); for a "
        "quarter partly read, the cost figures' previous and change are of compared_months")),
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
                    "initiatives reported for the previous quarter (`value_note`). "
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
