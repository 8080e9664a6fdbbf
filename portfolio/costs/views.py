"""Cost ingestion pages: the health page with its headline figures, sources, allocation rules and ingestion runs.

Views stay thin: reads go through portfolio.costs.selectors, writes through portfolio.costs.services.runs
("run now", executed by a Celery task once the transaction commits) and portfolio.costs.services.allocation (rule
preview, re-allocation).
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.utils.functional import cached_property
from django.utils.http import url_has_allowed_host_and_scheme
from django.views import View
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.generic import DetailView

from portfolio.calculations import months_label
from portfolio.choices import RunStatus, RunTrigger
from portfolio.costs import filtersets as cost_filtersets
from portfolio.costs import forecast as forecast_selectors
from portfolio.costs import selectors as cost_selectors
from portfolio.costs import tables as cost_tables
from portfolio.costs.calculations import skipped_rows_labels
from portfolio.costs.forms import (
    AllocationRuleForm,
    CostSourceForm,
    CurrencyRateForm,
    RunNowForm,
)
from portfolio.costs.services.allocation import (
    RULE_FIELDS,
    RuleChange,
    allocation_rule_create,
    allocation_rule_delete,
    allocation_rule_delete_preview,
    allocation_rule_move,
    allocation_rule_preview,
    allocation_rule_update,
)
from portfolio.costs.services.currency_rates import RATE_FIELDS, currency_rate_create, currency_rate_update
from portfolio.costs.services.runs import ingestion_run_submit
from portfolio.costs.services.sources import SOURCE_FIELDS, cost_source_create, cost_source_update
from portfolio.costs.uploads import LimitedTemporaryFileUploadHandler, stream_uploads_to_disk, upload_too_large_message
from portfolio.evidence import ingestion_grace_days
from portfolio.models import (
    AllocationRule,
    CostForecast,
    CostSource,
    CurrencyRate,
    IngestionRun,
    InitiativeForecast,
    reporting_currency,
)
from tollgate.roles import may
from tollgate.types import request_actor
from tollgate.ui.errors import form_add_service_errors, message_service_errors
from tollgate.ui.views import ListPageView, PermissionRequiredMixin

RECENT_RUNS = 10
class IngestionHealthView(PermissionRequiredMixin, View):
    """Headline spend of the latest complete month, the sources behind their schedule, one row per source with its
    last run and the months it misses, and the latest runs."""

    permission_required = "portfolio.view_costsource"
    template_name = "portfolio/costs/health.html"

    def get(self, request: HttpRequest) -> HttpResponse:
        now = timezone.now()
        today = timezone.localdate(now)
        grace_days = ingestion_grace_days()
        health = cost_selectors.ingestion_health(now=now, grace_days=grace_days)
        for source in health.sources:
            source.reads_files = cost_selectors.source_reads_files(source)
        shown = health.headline["month"].start if health.headline["month"] else today.replace(day=1)
        table = cost_tables.SourceHealthTable(health.sources, orderable=False, month=f"{shown:%Y-%m}",
                                              can_add=may(request.user, "portfolio.add_costsource"))
        runs = cost_tables.IngestionRunTable(
            cost_selectors.ingestion_runs_recent(limit=RECENT_RUNS), orderable=False, prefix="r-",
        )
        month = health.headline["month"]
        gpu_usage = cost_selectors.gpu_usage_of_month(month=month.start) if month else []
        return render(request, self.template_name, {
            "headline": health.headline,
            "gpu_usage": gpu_usage,
            "gpu_cost_label": cost_selectors.gpu_cost_label(row.cost_basis for row in gpu_usage),
            "stale_sources": health.stale,
            "grace_days": grace_days,
            "table": table,
            "runs_table": runs,
            "can_run": may(request.user, "portfolio.add_ingestionrun"),
            "current_month": f"{today:%Y-%m}",  # run now reads the current month by default
        })


class CostSourceListView(ListPageView):
    permission_required = "portfolio.view_costsource"
    filterset_class = cost_filtersets.CostSourceFilterSet
    table_class = cost_tables.CostSourceTable
    template_name = "portfolio/costs/source_list.html"
    export_name = "cost-sources"
    title = "Cost sources"
    intro = ("Where cost and usage data come from. Credentials are never stored: each source names the environment "
             "variable that holds its key.")

    def get_queryset(self) -> QuerySet[CostSource]:
        return cost_selectors.cost_sources_health().annotate(rules_count=Count("rules", distinct=True))

    def get_table_kwargs(self) -> dict[str, Any]:
        return {"can_add": may(self.request.user, "portfolio.add_costsource")}


class CostSourceDetailView(PermissionRequiredMixin, DetailView):
    permission_required = "portfolio.view_costsource"
    template_name = "portfolio/costs/source_detail.html"
    context_object_name = "source"

    def get_permission_object(self) -> None:
        return None  # role-wide permission; an unknown id is a 404 after the role check

    def get_queryset(self) -> QuerySet[CostSource]:
        return cost_selectors.cost_sources_health()

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        source: CostSource = self.object
        user = self.request.user
        rules = cost_tables.AllocationRuleTable(
            source.rules.select_related("source", "initiative").order_by("order", "pk"),
            can_edit=may(user, "portfolio.change_allocationrule"), orderable=False, prefix="rule-",
            exclude=("source",),
        )
        rules.request = self.request  # the move buttons carry the CSRF token and come back here
        runs = cost_tables.IngestionRunTable(
            cost_selectors.ingestion_runs_recent(source=source, limit=RECENT_RUNS), orderable=False, prefix="r-",
            exclude=("source",),
        )
        can_run = may(user, "portfolio.add_ingestionrun")
        context.update(
            settings_items=sorted((source.settings or {}).items()),
            reads_files=cost_selectors.source_reads_files(source),
            rules_table=rules,
            runs_table=runs,
            can_run=can_run,
            can_edit=may(user, "portfolio.change_costsource"),
            run_form=RunNowForm(source=source) if can_run else None,
        )
        return context


class CostSourceFormView(PermissionRequiredMixin, View):
    """Add or edit a source through portfolio.costs.services.sources (validation, the audit row); its errors go on the
    form."""

    template_name = "portfolio/costs/source_form.html"

    def get_source(self) -> CostSource | None:
        return None

    def page(self, form: CostSourceForm) -> HttpResponse:
        return render(self.request, self.template_name, {"form": form, "source": self.get_source()})

    def get(self, request: HttpRequest, **kwargs: Any) -> HttpResponse:
        return self.page(CostSourceForm(instance=self.get_source()))

    def post(self, request: HttpRequest, **kwargs: Any) -> HttpResponse:
        source = self.get_source()
        form = CostSourceForm(request.POST, instance=source)
        if not form.is_valid():
            return self.page(form)
        values = {name: form.cleaned_data[name] for name in SOURCE_FIELDS}
        try:
            if source is None:
                saved = cost_source_create(actor=request_actor(request), **values)
            else:
                saved = cost_source_update(actor=request_actor(request), source=source, **values)
        except ValidationError as exc:
            form_add_service_errors(form, exc)
            return self.page(form)
        messages.success(request, f"Cost source {saved.name} saved.")
        return HttpResponseRedirect(reverse("portfolio:costsource_detail", args=[saved.pk]))


class CostSourceCreateView(CostSourceFormView):
    permission_required = "portfolio.add_costsource"


class CostSourceUpdateView(CostSourceFormView):
    permission_required = "portfolio.change_costsource"

    def get_source(self) -> CostSource:
        if not hasattr(self, "_source"):
            self._source = get_object_or_404(CostSource, pk=self.kwargs["pk"])
        return self._source


@method_decorator(csrf_exempt, name="dispatch")  # CSRF is checked in post(), after the upload handler is installed
class CostSourceRunView(PermissionRequiredMixin, View):
    """Run now: create a run (trigger "user") and queue its task on commit; then follow it on the run page.

    An uploaded export streams to a temporary file on disk in chunks and is moved into storage, never read into
    memory whole; one over INGESTION_MAX_FILE_MB is dropped while it arrives and the page names it and the limit.
    """

    permission_required = "portfolio.add_ingestionrun"
    template_name = "portfolio/costs/run_form.html"

    def get_source(self, pk: int) -> CostSource:
        return get_object_or_404(CostSource, pk=pk)

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        source = self.get_source(pk)
        return render(request, self.template_name, {"source": source, "form": RunNowForm(source=source)})

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        # Django's CSRF check reads request.POST, which parses the upload: the handler has to be in place first.
        uploads = stream_uploads_to_disk(request)
        return self.post_protected(request, pk, uploads=uploads)

    @method_decorator(csrf_protect)
    def post_protected(self, request: HttpRequest, pk: int, *, uploads: LimitedTemporaryFileUploadHandler
                       ) -> HttpResponse:
        source = self.get_source(pk)
        form = RunNowForm(request.POST, request.FILES, source=source)
        valid = form.is_valid()
        if uploads.refused and "file" in form.errors:
            del form.errors["file"]  # the file never arrived: what is wrong is its size, said below
        for name in uploads.refused:
            form.add_error("file" if "file" in form.fields else None,
                           upload_too_large_message(name, None, uploads.limit))
            valid = False
        if not valid:
            return render(request, self.template_name, {"source": source, "form": form})
        upload = form.cleaned_data.get("file")
        try:
            run = ingestion_run_submit(
                source=source, period=form.cleaned_data["period"], trigger=RunTrigger.USER, actor=request.user,
                filename=upload.name if upload else "", content=upload,
                replace_with_nothing=form.cleaned_data["replace_with_nothing"],
            )
        except ValidationError as exc:  # the upload could not be stored (a full upload folder)
            form_add_service_errors(form, exc)
            return render(request, self.template_name, {"source": source, "form": form})
        return HttpResponseRedirect(reverse("portfolio:ingestionrun_detail", args=[run.pk]))


class IngestionRunListView(ListPageView):
    permission_required = "portfolio.view_ingestionrun"
    filterset_class = cost_filtersets.IngestionRunFilterSet
    table_class = cost_tables.IngestionRunTable
    template_name = "portfolio/costs/list.html"
    export_name = "ingestion-runs"
    title = "Ingestion runs"
    intro = "Every read of a cost source: what started it, what it read and wrote, and why it failed."

    def get_queryset(self) -> QuerySet[IngestionRun]:
        return cost_selectors.ingestion_runs()


class IngestionRunDetailView(PermissionRequiredMixin, DetailView):
    """A run's status and progress; the page refreshes itself every 2 s until the run ends."""

    permission_required = "portfolio.view_ingestionrun"
    template_name = "portfolio/costs/run_detail.html"
    context_object_name = "run"

    def get_permission_object(self) -> None:
        return None

    def get_queryset(self) -> QuerySet[IngestionRun]:
        return cost_selectors.ingestion_runs()

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        run: IngestionRun = self.object
        return super().get_context_data(
            in_progress=run.status in (RunStatus.PENDING, RunStatus.RUNNING),
            succeeded=run.status == RunStatus.SUCCEEDED,
            failed=run.status == RunStatus.FAILED,
            skipped_reasons=skipped_rows_labels(total=run.rows_skipped, by_reason=run.skipped_by_reason or {}),
            can_run=may(self.request.user, "portfolio.add_ingestionrun"),
            **kwargs,
        )


class AllocationRuleListView(ListPageView):
    permission_required = "portfolio.view_allocationrule"
    filterset_class = cost_filtersets.AllocationRuleFilterSet
    table_class = cost_tables.AllocationRuleTable
    template_name = "portfolio/costs/rule_list.html"
    export_name = "allocation-rules"
    title = "Allocation rules"
    intro = ("Per source, in order: the first rule that matches a record's key decides its initiative. Spend no rule "
             "maps stays unallocated.")

    def get_queryset(self) -> QuerySet[AllocationRule]:
        return AllocationRule.objects.select_related("source", "initiative").order_by("source__name", "order", "pk")

    def get_table_kwargs(self) -> dict[str, Any]:
        return {"can_edit": may(self.request.user, "portfolio.change_allocationrule")}

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["can_add"] = may(self.request.user, "portfolio.add_allocationrule")
        return context


class AllocationRuleFormView(PermissionRequiredMixin, View):
    """Create or edit a rule. "Preview" shows its effect on existing records and saves nothing; "Save" saves it and
    re-allocates the source's existing records (and their roll-ups) in the same transaction."""

    template_name = "portfolio/costs/rule_form.html"

    def get_rule(self) -> AllocationRule | None:
        return None

    def page(self, form: AllocationRuleForm, preview: dict[str, Any] | None = None) -> HttpResponse:
        rule = self.get_rule()
        can_delete = rule is not None and may(self.request.user, "portfolio.delete_allocationrule")
        return render(self.request, self.template_name,
                      {"form": form, "rule": rule, "preview": preview, "can_delete": can_delete})

    def get(self, request: HttpRequest, **kwargs: Any) -> HttpResponse:
        initial = {}
        if "source" in request.GET:
            initial["source"] = request.GET["source"]
        return self.page(AllocationRuleForm(instance=self.get_rule(), initial=initial))

    def post(self, request: HttpRequest, **kwargs: Any) -> HttpResponse:
        form = AllocationRuleForm(request.POST, instance=self.get_rule())
        if not form.is_valid():
            return self.page(form)
        if "preview" in request.POST:
            try:
                preview = allocation_rule_preview(rule=form.instance)
            except ValidationError as exc:
                form_add_service_errors(form, exc)
                return self.page(form)
            return self.page(form, preview=preview)
        try:
            change = self.save(form)
        except ValidationError as exc:
            form_add_service_errors(form, exc)
            return self.page(form)
        months = change.months
        moved = f" Records of {len(months)} month{'s' if len(months) != 1 else ''} were re-allocated." if months else ""
        messages.success(request, f"Rule saved.{moved}")
        return HttpResponseRedirect(f"{reverse('portfolio:allocationrule_list')}?source={change.rule.source_id}")

    def save(self, form: AllocationRuleForm) -> RuleChange:
        raise NotImplementedError  # each subclass calls its service


class AllocationRuleCreateView(AllocationRuleFormView):
    permission_required = "portfolio.add_allocationrule"

    def save(self, form: AllocationRuleForm) -> RuleChange:
        data = form.cleaned_data
        return allocation_rule_create(actor=request_actor(self.request), source=data["source"], order=data["order"],
                                      key=data["key"], match=data["match"], value=data["value"],
                                      initiative=data["initiative"])


class AllocationRuleUpdateView(AllocationRuleFormView):
    permission_required = "portfolio.change_allocationrule"

    def get_rule(self) -> AllocationRule:
        if not hasattr(self, "_rule"):
            self._rule = get_object_or_404(AllocationRule.objects.select_related("source", "initiative"),
                                           pk=self.kwargs["pk"])
        return self._rule

    def save(self, form: AllocationRuleForm) -> RuleChange:
        data = form.cleaned_data
        return allocation_rule_update(actor=request_actor(self.request), rule=self.get_rule(),
                                      **{name: data[name] for name in RULE_FIELDS})


class AllocationRuleDeleteView(PermissionRequiredMixin, View):
    """Confirm, then delete a rule: what it allocated goes to the next matching rule or back to unallocated."""

    permission_required = "portfolio.delete_allocationrule"
    template_name = "portfolio/costs/rule_confirm_delete.html"

    def get_rule(self, pk: int) -> AllocationRule:
        return get_object_or_404(AllocationRule.objects.select_related("source", "initiative"), pk=pk)

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        rule = self.get_rule(pk)
        return render(request, self.template_name, {"rule": rule, "preview": allocation_rule_delete_preview(rule=rule)})

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        rule = self.get_rule(pk)
        if request.POST.get("confirm") != "yes":
            return render(request, self.template_name, {
                "rule": rule, "preview": allocation_rule_delete_preview(rule=rule),
                "error": "Tick the box to confirm the deletion; nothing was deleted.",
            })
        change = allocation_rule_delete(actor=request_actor(request), rule=rule)
        months = change.months
        moved = f" Records of {len(months)} month{'s' if len(months) != 1 else ''} were re-allocated." if months else ""
        messages.success(request, f"Rule {rule.key} {rule.get_match_display().lower()} {rule.value!r} deleted.{moved}")
        return HttpResponseRedirect(f"{reverse('portfolio:allocationrule_list')}?source={rule.source_id}")


class AllocationRuleMoveView(PermissionRequiredMixin, View):
    """Move a rule one place up or down among its source's rules (allocation_rules_reorder re-allocates)."""

    permission_required = "portfolio.change_allocationrule"
    http_method_names = ["post"]

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        rule = get_object_or_404(AllocationRule.objects.select_related("source"), pk=pk)
        back = request.POST.get("next", "")
        if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
            back = f"{reverse('portfolio:allocationrule_list')}?source={rule.source_id}"
        direction = request.POST.get("direction", "")
        try:
            position = allocation_rule_move(actor=request_actor(request), rule=rule, direction=direction)
        except ValidationError as error:
            message_service_errors(request, error)
            return HttpResponseRedirect(back)
        if position is None:
            messages.info(request, f"The rule is already the {'first' if direction == 'up' else 'last'} of "
                                   f"{rule.source.name}.")
        else:
            messages.success(request, f"Rule {rule.key} {rule.value!r} is now number {position} of "
                                      f"{rule.source.name}; existing records were re-allocated.")
        return HttpResponseRedirect(back)


class CurrencyRateListView(ListPageView):
    permission_required = "portfolio.view_currencyrate"
    filterset_class = cost_filtersets.CurrencyRateFilterSet
    table_class = cost_tables.CurrencyRateTable
    template_name = "portfolio/costs/rate_list.html"
    export_name = "currency-rates"
    title = "Currency rates"
    intro = ("Costs keep their billing currency; reports convert them with these rates. A rate applies from its day "
             "until the currency's next rate, and a cost with no rate in effect fails its run instead of counting "
             "as 1.0.")

    def get_queryset(self) -> QuerySet[CurrencyRate]:
        return cost_selectors.currency_rates()

    def get_table_kwargs(self) -> dict[str, Any]:
        return {"can_edit": may(self.request.user, "portfolio.change_currencyrate")}

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["can_add"] = may(self.request.user, "portfolio.add_currencyrate")
        context["reporting_currency"] = reporting_currency()
        return context


class CurrencyRateFormView(PermissionRequiredMixin, View):
    """Create or edit a rate; saving converts the cost records of its window again and recomputes their roll-ups."""

    template_name = "portfolio/costs/rate_form.html"

    def get_rate(self) -> CurrencyRate | None:
        return None

    def page(self, form: CurrencyRateForm) -> HttpResponse:
        return render(self.request, self.template_name, {"form": form, "rate": self.get_rate()})

    def get(self, request: HttpRequest, **kwargs: Any) -> HttpResponse:
        return self.page(CurrencyRateForm(instance=self.get_rate()))

    def post(self, request: HttpRequest, **kwargs: Any) -> HttpResponse:
        rate = self.get_rate()
        form = CurrencyRateForm(request.POST, instance=rate)
        if not form.is_valid():
            return self.page(form)
        values = {name: form.cleaned_data[name] for name in RATE_FIELDS}
        try:
            if rate is None:
                change = currency_rate_create(actor=request_actor(request), **values)
            else:
                change = currency_rate_update(actor=request_actor(request), rate=rate, **values)
        except ValidationError as exc:
            form_add_service_errors(form, exc)
            return self.page(form)
        converted = (f" {change.records} cost record{'s' if change.records != 1 else ''} converted again."
                     if change.records else "")
        messages.success(request, f"Rate {change.rate.currency} from {change.rate.valid_from} saved.{converted}")
        return HttpResponseRedirect(f"{reverse('portfolio:currencyrate_list')}?currency={change.rate.currency}")


class CurrencyRateCreateView(CurrencyRateFormView):
    permission_required = "portfolio.add_currencyrate"


class CurrencyRateUpdateView(CurrencyRateFormView):
    permission_required = "portfolio.change_currencyrate"

    def get_rate(self) -> CurrencyRate:
        if not hasattr(self, "_rate"):
            self._rate = get_object_or_404(CurrencyRate, pk=self.kwargs["pk"])
        return self._rate


class CostForecastView(ListPageView):
    """The stored spend forecast: actual history, forecast with its 80% band, the Jevons scenario and the backtest on
    one chart; the numbers per month; the initiatives in a sortable table (CSV). Reads the latest snapshot only: it
    is computed after every ingestion run and nightly, never on a page view."""

    permission_required = "portfolio.view_costforecast"
    filterset_class = cost_filtersets.InitiativeForecastFilterSet
    table_class = cost_tables.InitiativeForecastTable
    template_name = "portfolio/costs/forecast.html"
    export_name = "spend-forecast"
    title = "Spend forecast"

    @cached_property
    def forecast(self) -> CostForecast | None:
        return forecast_selectors.cost_forecast_latest()

    def get_queryset(self) -> QuerySet[InitiativeForecast]:
        if self.forecast is None:
            return InitiativeForecast.objects.none()
        return forecast_selectors.forecast_lines(self.forecast)

    def get_table_kwargs(self) -> dict[str, Any]:
        if self.forecast is None:
            return super().get_table_kwargs()
        return {**super().get_table_kwargs(),
                "next_quarter_label": months_label(self.forecast.payload.get("months", [])[:3])}

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        forecast = self.forecast
        if forecast is not None:
            context.update(
                forecast=forecast,
                summary=forecast_selectors.forecast_summary(forecast),
                figure=forecast_selectors.forecast_figure(forecast),
                month_rows=forecast_selectors.forecast_month_rows(forecast),
            )
        return context
