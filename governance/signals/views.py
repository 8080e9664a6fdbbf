"""Signal pages: the list (filters, CSV, "Recompute now"), a signal with its evidence and lifecycle buttons, and the
progress of a computation. Thin: access through tollgate.roles, reads through governance.signals.selectors, writes
through governance.signals.services."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count, QuerySet, Sum
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.views import View
from django.views.generic import DetailView

from governance.choices import SignalRunTrigger, SignalStatus
from governance.models import Signal, SignalRun
from governance.policies import BY_KEY
from governance.selectors import audit_entries, audit_reference_names
from governance.signals import selectors, services
from governance.signals.filtersets import SignalFilterSet
from governance.signals.forms import SignalReasonForm
from governance.signals.tables import SignalTable
from governance.tables import audit_changes_text, audit_event_label, audit_reason
from portfolio.choices import RunStatus
from tollgate.roles import may
from tollgate.types import request_actor
from tollgate.ui.tables import person_name
from tollgate.ui.views import ListPageView, PermissionRequiredMixin


class SignalListView(ListPageView):
    permission_required = "governance.view_signal"
    template_name = "governance/signal_list.html"
    # The rows' default order, not a column's sort: a column sorted by default would turn its first click into the
    # reverse, and the Severity column's first click gives the most severe first (?sort=severity).
    list_selector = staticmethod(selectors.signal_list_by_severity)
    filterset_class = SignalFilterSet
    filter_defaults = SignalFilterSet.defaults  # the signals still waiting for someone, as the API
    table_class = SignalTable
    export_name = "signals"
    title = "Signals"
    intro = ("What to stop, fix or scale: kill-or-continue candidates, licence waste, cost overruns, right-sizing, "
             "self-hosting and sprawl, each with its evidence. Computed nightly, after every cost ingestion and "
             "after every value report or verdict.")

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        totals = self.object_list.order_by().aggregate(n=Count("pk", distinct=True), saving=Sum("monthly_saving"))
        context.update(
            signal_count=totals["n"], total_saving=totals["saving"] or Decimal(0),
            can_recompute=may(self.request.user, "governance.recompute_signals"),
            last_run=selectors.signal_run_latest(),
            # An owner reads the signals of the initiatives they own or act for: the page says so, beside the last
            # computation's company-wide count, and an empty list is not blamed on the filters.
            own_only=not may(self.request.user, "governance.view_every_signal"),
        )
        if context["own_only"] and not self.filters_refused():
            context["table"].empty_text = ("No signals on the initiatives you own or act for match these filters "
                                           "(an owner sees the signals of their own initiatives only).")
        return context


class SignalObjectMixin:
    """The signal named by the URL, loaded once: the permission check and the handler share it."""

    kwargs: dict[str, Any]

    def get_permission_object(self) -> Signal:
        if not hasattr(self, "_signal"):
            self._signal = get_object_or_404(Signal.objects.select_related(
                "acknowledged_by", "resolved_by", "dismissed_by"), pk=self.kwargs["pk"])
        return self._signal


def _policy_rows(evidence: dict[str, Any]) -> list[dict[str, str]]:
    rows = []
    for key, value in (evidence.get("policies") or {}).items():
        definition = BY_KEY.get(key)
        rows.append({"key": key, "label": definition.label if definition else key, "value": value,
                     "unit": definition.unit if definition else "", "help": definition.help if definition else ""})
    return rows


def signal_page_context(request: HttpRequest, signal: Signal, **extra: Any) -> dict[str, Any]:
    user = request.user
    live = signal.is_live
    entries = list(audit_entries(user=user).filter(content_type__app_label="governance", content_type__model="signal",
                                                   object_id=signal.pk)[:20])
    names = audit_reference_names(entries)  # the records they name, one query per kind
    history = [
        {"entry": e, "actor": person_name(e.actor) or e.actor_email or "system", "event": audit_event_label(e),
         "changes": audit_changes_text(e, names), "reason": audit_reason(e)}
        for e in entries
    ]
    return {
        "signal": signal,
        "initiatives": list(signal.initiatives.select_related("department", "owner").order_by("external_id")),
        "evidence": signal.evidence or {},
        "policies": _policy_rows(signal.evidence or {}),
        "can_acknowledge": signal.status == SignalStatus.OPEN and may(user, "governance.acknowledge_signal", signal),
        "can_dismiss": live and may(user, "governance.dismiss_signal", signal),
        "can_resolve": live and may(user, "governance.resolve_signal", signal),
        "form": extra.pop("form", None) or SignalReasonForm(),
        "errors": extra.pop("errors", []),
        "history": history,
        "last_run": selectors.signal_run_latest(),
        **extra,
    }


class SignalDetailView(SignalObjectMixin, PermissionRequiredMixin, View):
    permission_required = "governance.view_signal"
    template_name = "governance/signal_detail.html"

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return render(request, self.template_name, signal_page_context(request, self.get_permission_object()))


class SignalActionView(SignalObjectMixin, PermissionRequiredMixin, View):
    """POST acknowledge, dismiss (a reason required) or resolve (an optional note)."""

    action = ""  # "acknowledge", "dismiss" or "resolve"
    PERMISSIONS = {"acknowledge": "governance.acknowledge_signal", "dismiss": "governance.dismiss_signal",
                   "resolve": "governance.resolve_signal"}

    def get_permission_required(self) -> tuple[str]:
        return (self.PERMISSIONS[self.action],)

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        signal = self.get_permission_object()
        form = SignalReasonForm(request.POST)
        form.is_valid()
        text = form.cleaned_data.get("reason", "")
        actor = request_actor(request)
        try:
            if self.action == "acknowledge":
                services.signal_acknowledge(actor=actor, signal=signal, note=text)
            elif self.action == "dismiss":
                services.signal_dismiss(actor=actor, signal=signal, reason=text)
            else:
                services.signal_resolve(actor=actor, signal=signal, note=text)
        except ValidationError as error:
            context = signal_page_context(request, signal, form=form, errors=error.messages)
            return render(request, SignalDetailView.template_name, context, status=400)
        messages.success(request, f"“{signal}” is now {signal.get_status_display().lower()}.")
        return HttpResponseRedirect(signal.get_absolute_url())


class SignalRecomputeView(PermissionRequiredMixin, View):
    """POST "Recompute now": queue a computation (or find the one waiting) and follow it on its page."""

    permission_required = "governance.recompute_signals"

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        run = services.signal_run_submit(actor=request_actor(request), trigger=SignalRunTrigger.USER)
        return HttpResponseRedirect(run.get_absolute_url())


class SignalRunDetailView(PermissionRequiredMixin, DetailView):
    """A computation's status; the page refreshes itself every 2 s until the run ends."""

    permission_required = "governance.view_signalrun"
    template_name = "governance/signal_run_detail.html"
    context_object_name = "run"

    def get_queryset(self) -> QuerySet[SignalRun]:
        return SignalRun.objects.select_related("actor")

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        run: SignalRun = self.object
        context.update(in_progress=run.in_progress, succeeded=run.status == RunStatus.SUCCEEDED,
                       failed=run.status == RunStatus.FAILED,
                       can_recompute=may(self.request.user, "governance.recompute_signals"))
        return context
