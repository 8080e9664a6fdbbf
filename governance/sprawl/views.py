"""Sprawl pages: clusters and their review, the use-case catalogue ("spend by use case"), recompute runs, label
checks (the detector measured against a company's own labelled duplicates), an initiative's use cases, and the
possible-duplicates fragments of the intake form, initiative page and scoring page.

Views stay thin: access through tollgate.roles (PermissionRequiredMixin), reads through governance.sprawl.selectors,
writes through governance.sprawl.services.
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views import View
from django.views.generic import DetailView, FormView
from django_tables2 import RequestConfig, SingleTableMixin

from governance.choices import SprawlConfidence, SprawlRunTrigger, SprawlStatus
from governance.models import DuplicatePairDecision, SprawlCluster, SprawlLabelCheck, SprawlRun, UseCase
from governance.sprawl import selectors as sprawl_selectors
from governance.sprawl.filtersets import SprawlClusterFilterSet, UseCaseFilterSet
from governance.sprawl.forms import (
    DuplicatePairDecisionForm,
    InitiativeUseCasesForm,
    SprawlLabelCheckForm,
    SprawlMemberRemoveForm,
    SprawlReasonForm,
)
from governance.sprawl.services import clusters, label_checks, pair_decisions, runs, use_cases
from governance.sprawl.services.recompute import recompute_steps
from governance.sprawl.tables import LabelCheckPairTable, SprawlClusterTable, UseCaseInitiativeTable, UseCaseTable
from portfolio.choices import RunStatus
from portfolio.models import Initiative, reporting_currency
from tollgate import jobs
from tollgate.roles import may
from tollgate.types import request_actor
from tollgate.ui.errors import form_add_service_errors, message_service_errors
from tollgate.ui.exports import csv_download
from tollgate.ui.ids import record_id, record_ids
from tollgate.ui.views import (
    PAGE_SIZE,
    CsvExportMixin,
    ListPageView,
    PermissionRequiredMixin,
    TablePaginationMixin,
    table_pagination,
)

CHART_CLUSTERS = 15


def _short(title: str, limit: int = 42) -> str:
    """Chart labels stay readable; the full title is on the cluster's page."""
    return title if len(title) <= limit else title[:limit - 1].rstrip() + "…"


def saving_by_cluster_figure(top: list[dict[str, Any]], currency: str) -> dict[str, Any]:
    """Plotly bar chart (JSON-ready dict) of the estimated monthly saving of the clusters with the largest saving."""
    return {
        "data": [{
            "type": "bar", "orientation": "h",
            "y": [f"{_short(c['title'])} (#{c['pk']})" for c in top][::-1],
            "x": [float(c["estimated_saving"]) for c in top][::-1],
            "customdata": [[float(c["monthly_spend"]), c["member_count"]] for c in top][::-1],
            "hovertemplate": "%{y}<br>saving %{x:,.0f}/month of %{customdata[0]:,.0f} spend<br>"
                             "%{customdata[1]} members<extra></extra>",
            "marker": {"color": "#2b4c7e"},
        }],
        "layout": {
            "title": {"text": f"Estimated saving by cluster ({currency} / month)"},
            "height": max(220, 40 + 28 * len(top)),
            "margin": {"l": 20, "r": 20, "t": 40, "b": 40},
            "xaxis": {"tickformat": ",.0f"},
            "yaxis": {"automargin": True},
            "paper_bgcolor": "rgba(0,0,0,0)", "plot_bgcolor": "rgba(0,0,0,0)",
        },
    }


def label_check_bands_figure(bands: list[sprawl_selectors.LabelCheckBand]) -> dict[str, Any]:
    """Plotly grouped bars (JSON-ready dict): by score band, the share of pairs right against the file's labels beside
    the share the same band had on other companies' inventories."""
    shown = [band for band in bands if band.pairs or band.elsewhere_pairs]
    names = [f"{band.confidence} {band.low:.2f}–{band.high:.2f}" for band in shown]
    return {
        "data": [
            {"type": "bar", "name": "Your labels", "x": names, "y": [band.share for band in shown],
             "customdata": [[band.right, band.pairs] for band in shown],
             "hovertemplate": "%{x}: %{customdata[0]} of %{customdata[1]} pairs right<extra>your labels</extra>",
             "marker": {"color": "#2b4c7e"}},
            {"type": "bar", "name": "Elsewhere", "x": names, "y": [band.elsewhere_share for band in shown],
             "customdata": [[band.elsewhere_right, band.elsewhere_pairs] for band in shown],
             "hovertemplate": "%{x}: %{customdata[0]} of %{customdata[1]} pairs right<extra>elsewhere</extra>",
             "marker": {"color": "#b8c4d6"}},
        ],
        "layout": {
            "title": {"text": "Share of pairs right, by cluster score"}, "barmode": "group", "height": 300,
            "margin": {"l": 40, "r": 20, "t": 40, "b": 80}, "yaxis": {"range": [0, 1], "tickformat": ".0%"},
            "legend": {"orientation": "h"},
            "paper_bgcolor": "rgba(0,0,0,0)", "plot_bgcolor": "rgba(0,0,0,0)",
        },
    }


class ObjectFromUrlMixin:
    """The object named by the URL's pk, loaded once: the permission check and the handler share it."""

    permission_model: type[models.Model]
    kwargs: dict[str, Any]

    def get_permission_object(self) -> Any:
        if not hasattr(self, "_object"):
            self._object = get_object_or_404(self.permission_model, pk=self.kwargs["pk"])
        return self._object


# Clusters ------------------------------------------------------------------------------------------------------------


class SprawlClusterListView(ListPageView):
    permission_required = "governance.view_sprawlcluster"
    template_name = "governance/sprawl_list.html"
    filterset_class = SprawlClusterFilterSet
    # The clusters still needing a decision, likely ones: possible ones are listed apart (?confidence=possible).
    filter_defaults: ClassVar[dict[str, str]] = {"status": SprawlStatus.OPEN, "confidence": SprawlConfidence.LIKELY}
    table_class = SprawlClusterTable
    export_name = "sprawl-clusters"
    title = "Sprawl"

    def get_queryset(self) -> QuerySet[SprawlCluster]:
        return sprawl_selectors.sprawl_clusters()

    def _without(self, *names: str) -> QuerySet[SprawlCluster]:
        """The clusters the page's filters match with `names` left open: what a count beside the list is "of"."""
        data = self.filterset.data.copy()
        for name in names:
            data[name] = ""
        return self.filterset_class(data, queryset=self.get_queryset(), request=self.request).qs

    def _chosen(self, name: str) -> str:
        return (self.filterset.form.cleaned_data.get(name) or "") if self.filterset.is_valid() else ""

    def status_tabs(self) -> list[dict[str, Any]]:
        """Clusters by status under the page's other filters: they add up to "all", and the chosen one is what is
        listed."""
        counts = sprawl_selectors.sprawl_cluster_status_counts(self._without("status"))
        chosen = self._chosen("status")
        tabs = [{"status": status, "label": label, "count": counts[status], "chosen": chosen == status}
                for status, label in SprawlStatus.choices]
        tabs.append({"status": "", "label": "All", "count": sum(counts.values()), "chosen": chosen == ""})
        return tabs

    def confidence_counts(self) -> dict[str, Any]:
        """Likely (those reviewers linked among them) and possible clusters under the page's other filters, and which
        is listed."""
        counts = sprawl_selectors.sprawl_cluster_confidence_counts(self._without("confidence"))
        chosen = self._chosen("confidence")
        status = self._chosen("status")
        return {"likely": counts[SprawlConfidence.LIKELY] + counts[SprawlConfidence.LINKED],
                "linked": counts[SprawlConfidence.LINKED], "possible": counts[SprawlConfidence.POSSIBLE],
                "chosen": chosen, "total": sum(counts.values()),
                # What these counts are of: the status the page lists ("of the 26 open clusters").
                "status": SprawlStatus(status).label.lower() if status else ""}

    def whole_counts(self, listed: int) -> dict[str, Any]:
        """Every cluster under the page's other filters, whatever its status and confidence, and how many the chosen
        confidence leaves out (`listed`: the status counts' "all"): so that "20 open + 1 confirmed + 1 dismissed = 22"
        of the likely clusters is not read as all of them ("28 clusters in all: 6 more, open and only possible, not
        counted here")."""
        total = self._without("status", "confidence").count()
        chosen = self._chosen("confidence")
        said: dict[str, tuple[str, str]] = {
            SprawlConfidence.LIKELY: ("likely clusters (with every decided one)", "open and only possible"),
            SprawlConfidence.POSSIBLE: ("possible clusters", "likely or linked"),
            SprawlConfidence.LINKED: ("clusters linked by reviewers", "of another confidence"),
        }
        words = said.get(chosen)
        return {"total": total, "other": max(total - listed, 0),
                "confidence": words[0] if words else "", "other_label": words[1] if words else ""}

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        currency = reporting_currency()
        totals = sprawl_selectors.sprawl_cluster_totals(self.object_list)
        context.update(
            total_spend=totals["spend"],
            total_saving=totals["saving"],
            cluster_count=totals["count"],
            status_tabs=self.status_tabs(),
            confidence_counts=self.confidence_counts(),
            chart=saving_by_cluster_figure(sprawl_selectors.sprawl_cluster_chart_rows(self.object_list, CHART_CLUSTERS),
                                           currency) if totals["count"] else None,
            can_recompute=may(self.request.user, "governance.recompute_sprawl"),
            can_check=may(self.request.user, "governance.check_sprawl"),
            last_run=sprawl_selectors.sprawl_run_latest(),
        )
        context["whole_counts"] = self.whole_counts(context["status_tabs"][-1]["count"])
        context["track_record"], context["pair_verdicts"] = sprawl_selectors.sprawl_track_record()
        return context


class SprawlClusterDetailView(PermissionRequiredMixin, DetailView):
    permission_required = "governance.view_sprawlcluster"
    template_name = "governance/sprawl_detail.html"
    context_object_name = "cluster"

    def get_queryset(self) -> QuerySet[SprawlCluster]:
        return SprawlCluster.objects.select_related("use_case", "decided_by")

    def get_object(self, queryset: QuerySet[SprawlCluster] | None = None) -> SprawlCluster:
        # The permission check and the page read the same cluster: once per request (the view lives for one).
        if queryset is not None:
            return super().get_object(queryset)
        if not hasattr(self, "_cluster"):
            self._cluster = super().get_object()
        return self._cluster

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        cluster: SprawlCluster = self.object
        members = sprawl_selectors.sprawl_cluster_members(cluster)
        can_decide = may(self.request.user, "governance.decide_sprawlcluster", cluster)
        active = [m for m in members if not m.removed]
        can_remove = can_decide and cluster.status != SprawlStatus.DISMISSED and len(active) > 2
        target = kwargs.get("remove_target")
        context.update(
            members=members, active_count=len(active), removed_count=len(members) - len(active),
            can_decide=can_decide and cluster.status == SprawlStatus.OPEN,
            can_remove=can_remove,
            decision_form=kwargs.get("decision_form") or SprawlReasonForm(),
            decision_errors=kwargs.get("decision_errors", []),
            remove_errors=kwargs.get("remove_errors", []),
            # The errors go beside the member's form, or above the table when that form is not shown (two members
            # left, a stale page): never nowhere.
            remove_target=target if can_remove and target in {m.initiative_id for m in active} else None,
            departments=sorted({m.initiative.department.name for m in active}),
            vendors=sorted({v.name for m in active for v in m.initiative.vendors.all()}),
            band=sprawl_selectors.score_band(cluster.score),
            # The label check it quotes is for those who may read label checks (not owners).
            band_here=(sprawl_selectors.band_on_own_labels(cluster.score)
                       if may(self.request.user, "governance.view_sprawllabelcheck") else None),
        )
        return context


class SprawlClusterDecideView(ObjectFromUrlMixin, PermissionRequiredMixin, View):
    """POST: confirm or dismiss an open cluster, with a reason (required to dismiss)."""

    permission_required = "governance.decide_sprawlcluster"
    decision = ""  # "confirm" or "dismiss"

    permission_model = SprawlCluster

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        cluster = self.get_permission_object()
        form = SprawlReasonForm(request.POST)
        service = clusters.sprawl_cluster_confirm if self.decision == "confirm" else clusters.sprawl_cluster_dismiss
        try:
            if not form.is_valid():  # a reason too long: refused, not decided without it
                raise ValidationError([error for errors in form.errors.values() for error in errors])
            service(actor=request.user, cluster=cluster, reason=form.cleaned_data["reason"])
        except ValidationError as error:
            view = SprawlClusterDetailView(request=request, kwargs={"pk": cluster.pk}, object=cluster)
            context = view.get_context_data(object=cluster, decision_form=form, decision_errors=error.messages)
            return render(request, SprawlClusterDetailView.template_name, context, status=400)
        messages.success(request, f"“{cluster.title}” is now {cluster.get_status_display().lower()}.")
        return HttpResponseRedirect(cluster.get_absolute_url())


class SprawlMemberRemoveView(ObjectFromUrlMixin, PermissionRequiredMixin, View):
    """POST: take a member out of a cluster, with a reason; recomputation never re-adds it."""

    permission_required = "governance.decide_sprawlcluster"

    permission_model = SprawlCluster

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        cluster = self.get_permission_object()
        form = SprawlMemberRemoveForm(request.POST, prefix="remove")
        initiative = None
        try:
            if not form.is_valid():
                raise ValidationError([e for errors in form.errors.values() for e in errors])
            initiative = form.cleaned_data["initiative"]
            clusters.sprawl_member_remove(actor=request.user, cluster=cluster, initiative=initiative,
                                          reason=form.cleaned_data["reason"])
        except ValidationError as error:
            view = SprawlClusterDetailView(request=request, kwargs={"pk": cluster.pk}, object=cluster)
            context = view.get_context_data(object=cluster, remove_errors=error.messages,
                                            remove_target=initiative.pk if initiative else None)
            return render(request, SprawlClusterDetailView.template_name, context, status=400)
        messages.success(request, f"“{initiative.name}” is no longer a member of “{cluster.title}”.")
        return HttpResponseRedirect(cluster.get_absolute_url())


# Recompute runs ------------------------------------------------------------------------------------------------------


class SprawlRecomputeView(PermissionRequiredMixin, View):
    """POST "Recompute now": queue a run (or find the one already queued) and follow it on its page."""

    permission_required = "governance.recompute_sprawl"

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        run = runs.sprawl_run_submit(actor=request.user, trigger=SprawlRunTrigger.USER)
        return HttpResponseRedirect(run.get_absolute_url())


class SprawlRunDetailView(PermissionRequiredMixin, DetailView):
    """A recomputation's status; the page refreshes itself every 2 s until the run ends."""

    permission_required = "governance.view_sprawlrun"
    template_name = "governance/sprawl_run_detail.html"
    context_object_name = "run"

    def get_queryset(self) -> QuerySet[SprawlRun]:
        return SprawlRun.objects.select_related("actor")

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        run: SprawlRun = self.object
        context.update(in_progress=run.in_progress,
                       succeeded=run.status == RunStatus.SUCCEEDED, failed=run.status == RunStatus.FAILED,
                       can_recompute=may(self.request.user, "governance.recompute_sprawl"),
                       step=jobs.run_step(run, recompute_steps()),
                       pair_model=sprawl_selectors.run_pair_model(run) if run.status == RunStatus.SUCCEEDED else None)
        return context


class SprawlLabelCheckCreateView(PermissionRequiredMixin, FormView):
    """Upload labelled duplicates to measure the detector against; a bad file is refused with every problem named."""

    permission_required = "governance.check_sprawl"
    form_class = SprawlLabelCheckForm
    template_name = "governance/sprawl_check_form.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return super().get_context_data(recent=sprawl_selectors.label_checks_recent(), **kwargs)

    def form_valid(self, form: SprawlLabelCheckForm) -> HttpResponse:
        upload = form.cleaned_data["file"]
        try:
            check = label_checks.sprawl_label_check_submit(
                actor=request_actor(self.request), filename=upload.name or "labels.csv", content=upload.read(),
                top=form.cleaned_data["top"], possible=form.cleaned_data["possible"],
                undecided=form.cleaned_data["undecided"], listed_only=form.cleaned_data["listed_only"])
        except ValidationError as exc:
            form_add_service_errors(form, exc)
            return self.form_invalid(form)
        return HttpResponseRedirect(check.get_absolute_url())


class SprawlLabelTemplateView(PermissionRequiredMixin, View):
    """GET every initiative as a labels file to fill in (CSV, UTF-8 with the byte-order mark Excel needs to read it
    as UTF-8; formula-like cells neutralised, and read back as written)."""

    permission_required = "governance.check_sprawl"

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return csv_download("labels-to-fill-in.csv", sprawl_selectors.LABELS_TEMPLATE_HEADER,
                            sprawl_selectors.labels_template_rows(), bom=True)


class SprawlLabelCheckDetailView(PermissionRequiredMixin, CsvExportMixin, TablePaginationMixin, SingleTableMixin,
                                 DetailView):
    """A label check: its progress until it ends (the page refreshes every 2 s), then the figures and what the
    detector got wrong, filtered by kind and exported as CSV (?_export=csv)."""

    permission_required = "governance.view_sprawllabelcheck"
    template_name = "governance/sprawl_check_detail.html"
    context_object_name = "check"
    table_class = LabelCheckPairTable
    table_pagination: ClassVar[dict[str, int]] = {"per_page": 100}

    def get_queryset(self) -> QuerySet[SprawlLabelCheck]:
        return SprawlLabelCheck.objects.select_related("actor")

    def get_export_filename(self, export_format: str) -> str:
        return f"label-check-{self.object.pk}.{export_format}"

    def kind(self) -> str | None:
        kind = self.request.GET.get("kind")
        return kind if kind in sprawl_selectors.LABEL_CHECK_KINDS else None

    def get_table_data(self) -> list[dict[str, Any]]:
        check: SprawlLabelCheck = self.object
        if check.status != RunStatus.SUCCEEDED:
            return []
        return sprawl_selectors.label_check_rows(check, kind=self.kind())

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        check: SprawlLabelCheck = self.object
        result = check.result or {}
        bands = sprawl_selectors.label_check_bands(check)
        context.update(
            bands=bands, bands_chart=label_check_bands_figure(bands) if any(b.clusters for b in bands) else None,
            in_progress=check.in_progress,
            succeeded=check.status == RunStatus.SUCCEEDED, failed=check.status == RunStatus.FAILED,
            result=result, kind=self.kind(), kinds=sprawl_selectors.label_check_kind_counts(check),
            can_check=may(self.request.user, "governance.check_sprawl"),
            step=jobs.run_step(check, label_checks.label_check_steps()),
        )
        return context


# Use cases -----------------------------------------------------------------------------------------------------------


class UseCaseListView(ListPageView):
    permission_required = "governance.view_usecase"
    template_name = "governance/usecase_list.html"
    filterset_class = UseCaseFilterSet
    table_class = UseCaseTable
    table_pagination: ClassVar[dict[str, int]] = {"per_page": 50}
    export_name = "use-cases"
    title = "Use cases"

    def get_queryset(self) -> QuerySet[UseCase]:
        return sprawl_selectors.use_cases_with_figures()

    def get_table_kwargs(self) -> dict[str, Any]:
        month = sprawl_selectors.use_case_spend_month()
        return {**super().get_table_kwargs(), "spend_heading": sprawl_selectors.spend_by_use_case_heading(month)}

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context.update(can_edit=may(self.request.user, "governance.change_usecase"),
                       spend_month=sprawl_selectors.use_case_spend_month())
        return context


class UseCaseDetailView(PermissionRequiredMixin, DetailView):
    permission_required = "governance.view_usecase"
    template_name = "governance/usecase_detail.html"
    context_object_name = "use_case"
    slug_field = "code"
    slug_url_kwarg = "code"

    def get_queryset(self) -> QuerySet[UseCase]:
        return UseCase.objects.all()

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        table = UseCaseInitiativeTable(sprawl_selectors.initiatives_of_use_case(self.object))
        RequestConfig(self.request, paginate=table_pagination(PAGE_SIZE)).configure(table)
        spend = sprawl_selectors.spend_by_use_case().get(self.object.pk, 0)
        context.update(table=table, monthly_spend=spend,
                       clusters=self.object.clusters.order_by("-estimated_saving")[:20],
                       can_edit=may(self.request.user, "governance.change_usecase"))
        return context


# An initiative's use cases and possible duplicates -------------------------------------------------------------------


class InitiativeUseCasesView(ObjectFromUrlMixin, PermissionRequiredMixin, View):
    """POST from the initiative page: the use cases a person confirms for the initiative."""

    permission_required = "governance.set_initiative_use_cases"

    permission_model = Initiative

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        initiative = self.get_permission_object()
        form = InitiativeUseCasesForm(request.POST)
        if form.is_valid():
            codes = [u.code for u in form.cleaned_data["use_cases"]]
            try:
                use_cases.initiative_use_cases_set(actor=request.user, initiative=initiative, use_case_codes=codes)
            except ValidationError as error:
                message_service_errors(request, error)
            else:
                messages.success(request, f"Use cases of “{initiative.name}” saved." if codes else
                                 f"Use cases of “{initiative.name}” cleared: they will be suggested again.")
        else:
            messages.error(request, "Nothing was saved: " + " ".join(
                str(e) for errors in form.errors.values() for e in errors))
        return HttpResponseRedirect(initiative.get_absolute_url() + "#use-cases")


class DraftDuplicatesView(PermissionRequiredMixin, View):
    """GET (from the intake form, as the owner types): an HTML fragment with the top possible duplicates of the draft
    and the use cases it most likely does."""

    permission_required = "portfolio.view_initiative"
    template_name = "governance/_possible_duplicates.html"

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        params = request.GET
        name, description = params.get("name", "").strip()[:200], params.get("description", "").strip()[:5000]
        context: dict[str, Any] = {"draft": True, "enough": bool(name or description)}
        if context["enough"]:
            draft: dict[str, Any] = {
                "name": name, "description": description, "vendor_ids": record_ids(params.getlist("vendors")),
                "model_ids": record_ids(params.getlist("ai_models")), "category": params.get("category", ""),
            }
            exclude = record_id(params.get("exclude"))
            # The owner the form names (administrators choose one), else an initiative's own, else whoever writes.
            owner = record_id(params.get("owner"))
            context["duplicates"] = sprawl_selectors.draft_possible_duplicates(
                **draft, department_id=record_id(params.get("department")),
                owner_id=owner if owner is not None or exclude is not None else request.user.pk, exclude_id=exclude)
            context["use_cases"] = sprawl_selectors.draft_use_case_suggestions(**draft)
        return render(request, self.template_name, context)


class InitiativeDuplicatesView(ObjectFromUrlMixin, PermissionRequiredMixin, View):
    """GET (from the initiative page): an HTML fragment with its top possible duplicates."""

    permission_required = "portfolio.view_initiative"
    template_name = "governance/_possible_duplicates.html"

    permission_model = Initiative

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        initiative = self.get_permission_object()
        duplicates = sprawl_selectors.initiative_possible_duplicates(initiative)
        return render(request, self.template_name, {
            "draft": False, "enough": True, "initiative": initiative,
            **pair_decision_context(request, initiative, duplicates, back=initiative.get_absolute_url() + "#use-cases"),
        })


# Verdicts on possible-duplicate pairs --------------------------------------------------------------------------------


def pair_decision_context(request: HttpRequest, initiative: Initiative, duplicates: list[Any], *,
                          back: str) -> dict[str, Any]:
    """What the possible-duplicates list needs for its "Duplicate of" / "Not a duplicate" controls: each candidate's
    `can_decide` (only reviewers and administrators acting for neither initiative), `ended` (the one of the two
    that ended: no verdict is offered), the pairs decided "not a duplicate"
    (hidden from the list, listed apart to undo) and where the forms come back to."""
    rows = [{"d": d, "can_decide": may(request.user, "governance.decide_duplicatepair",
                                       pair_decisions.pair_of(initiative, d.initiative)),
             "ended": pair_decisions.ended_in_pair(initiative, d.initiative)} for d in duplicates]
    not_duplicates = [{"decision": decision, "other": decision.initiative_b if decision.initiative_a_id ==
                       initiative.pk else decision.initiative_a,
                       "can_decide": may(request.user, "governance.decide_duplicatepair", decision)}
                      for decision in sprawl_selectors.not_duplicates_of(initiative)]
    return {"duplicates": duplicates, "duplicate_rows": rows, "not_duplicates": not_duplicates,
            "decide_url": reverse("governance:duplicate_pair_decide", args=[initiative.pk]), "back": back}


def _back(request: HttpRequest, default: str) -> str:
    """Where a verdict's form came from (the initiative page or the scoring page), if it is this site."""
    back = request.POST.get("next", "")
    return back if back and url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}) else default


class DuplicatePairDecideView(PermissionRequiredMixin, View):
    """POST from a possible-duplicates list: "duplicate of" or "not a duplicate" (with a reason) on the initiative and
    one candidate. The permission is asked about the pair when the form names an existing candidate."""

    permission_required = "governance.decide_duplicatepair"
    http_method_names = ["post"]

    def get_permission_object(self) -> Any:
        if not hasattr(self, "_pair"):
            initiative = get_object_or_404(Initiative, pk=self.kwargs["pk"])
            other_id = record_id(self.request.POST.get("other"))
            other = Initiative.objects.filter(pk=other_id).first() if other_id is not None else None
            self._initiative = initiative
            self._pair = pair_decisions.pair_of(initiative, other) if other is not None else None
        return self._pair

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        self.get_permission_object()
        initiative: Initiative = self._initiative
        back = _back(request, initiative.get_absolute_url() + "#use-cases")
        form = DuplicatePairDecisionForm(request.POST)
        if not form.is_valid():
            messages.error(request, "Nothing was saved: " + " ".join(
                str(e) for errors in form.errors.values() for e in errors))
            return HttpResponseRedirect(back)
        other = form.cleaned_data["other"]
        try:
            decision = pair_decisions.duplicate_pair_decide(
                actor=request_actor(request), initiative=initiative, other=other,
                verdict=form.cleaned_data["verdict"], reason=form.cleaned_data["reason"])
        except ValidationError as error:
            message_service_errors(request, error)
        else:
            # The pair has no direction: said as the button beside the candidate reads ("this one: Duplicate of").
            messages.success(request, f"“{initiative.name}” is recorded as a duplicate of “{other.name}”: the two do "
                             "the same job." if decision.is_duplicate else
                             f"“{initiative.name}” is recorded as not a duplicate of “{other.name}”: it leaves the "
                             "possible duplicates.")
        return HttpResponseRedirect(back)


class DuplicatePairUndoView(PermissionRequiredMixin, View):
    """POST: withdraw a verdict on a possible-duplicate pair; the audit trail keeps it. A verdict undone meanwhile (a
    second tab, another reviewer) says so and goes back, where a bare 404 page said nothing."""

    permission_required = "governance.decide_duplicatepair"
    http_method_names = ["post"]

    def get_permission_object(self) -> DuplicatePairDecision | None:
        if not hasattr(self, "_decision"):
            decision_id = record_id(str(self.kwargs["pk"]))
            self._decision = DuplicatePairDecision.objects.select_related("initiative_a", "initiative_b").filter(
                pk=decision_id).first() if decision_id is not None else None
        return self._decision

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        decision = self.get_permission_object()
        if decision is None:
            messages.error(request, "This verdict was already undone (in another tab, or by another reviewer).")
            return HttpResponseRedirect(_back(request, reverse("governance:sprawl_list")))
        back = _back(request, decision.initiative_a.get_absolute_url() + "#use-cases")
        try:
            pair_decisions.duplicate_pair_undo(actor=request_actor(request), decision=decision)
        except ValidationError as error:
            message_service_errors(request, error)
        else:
            messages.success(request, f"The verdict on “{decision.initiative_a.name}” and "
                                      f"“{decision.initiative_b.name}” is undone.")
        return HttpResponseRedirect(back)
