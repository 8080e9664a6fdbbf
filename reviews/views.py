"""Review pages: my reports, the value report form, report detail with verdict and reopen, the reviewer queue,
cycles with their overview, and notifications.

Views stay thin: they check access (tollgate.roles through PermissionRequiredMixin), read through
reviews.selectors and write through reviews.services.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views import View
from django.views.generic import DetailView

from portfolio.choices import NotificationEmail
from portfolio.selectors import profile_of
from reviews import selectors, services
from reviews.choices import Decision, ReportStatus
from reviews.filtersets import (
    MyInitiativeFilterSet,
    NotificationFilterSet,
    QueueFilterSet,
    ReviewCycleFilterSet,
    ValueReportFilterSet,
)
from reviews.forms import ReopenForm, ReviewCycleDatesForm, ReviewCycleForm, ValueReportForm, VerdictForm
from reviews.models import ReportAttachment, ReviewCycle, ValueReport
from reviews.tables import MyInitiativeTable, NotificationTable, QueueTable, ReviewCycleTable, ValueReportTable
from tollgate.roles import may, same_rule
from tollgate.types import request_actor
from tollgate.ui.errors import form_add_service_errors, message_service_errors
from tollgate.ui.ids import record_ids
from tollgate.ui.views import ListPageView, PermissionRequiredMixin


class ReportObjectMixin:
    """Loads the report once (with everything the page shows); the object permission is asked on it."""

    kwargs: dict[str, Any]

    def get_report(self) -> ValueReport:
        # Unrestricted on purpose: the permission (role-wide or on this report) is what decides, and it is checked
        # by PermissionRequiredMixin before the page does anything.
        if not hasattr(self, "_report"):
            self._report = get_object_or_404(selectors.report_detail_loaded(), pk=self.kwargs["pk"])
        return self._report

    def get_permission_object(self) -> ValueReport | None:
        return self.get_report()


# My reports ----------------------------------------------------------------------------------------------------------


class MyReportsView(ListPageView):
    """Initiatives I own or act for, with the current cycle's report: status, due date, link to fill it in."""

    permission_required = "reviews.view_valuereport"
    table_class = MyInitiativeTable
    template_name = "reviews/mine.html"
    export_name = "my-initiatives"
    title = "My initiatives and due reports"
    filterset_class = MyInitiativeFilterSet

    def get_queryset(self) -> QuerySet:
        self.cycle = selectors.current_cycle()
        return selectors.my_initiatives(user=self.request.user, cycle=self.cycle)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context.update(cycle=self.cycle, open_reports=list(selectors.my_open_reports(user=self.request.user)))
        return context


# Value report --------------------------------------------------------------------------------------------------------


class ReportDetailView(ReportObjectMixin, PermissionRequiredMixin, DetailView):
    """Read-only report with its figures; independent reviewers get the verdict form and the reopen button."""

    permission_required = "reviews.view_valuereport"
    template_name = "reviews/report_detail.html"
    context_object_name = "report"

    def get_permission_object(self) -> None:
        return None  # reading is role-wide: 403 without a role, 404 for a missing id

    def get_object(self, queryset: QuerySet | None = None) -> ValueReport:
        return self.get_report()

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context.update(report_context(self.request, self.object))
        context.setdefault("verdict_form", VerdictForm())
        context.setdefault("reopen_form", ReopenForm())
        return context


def report_context(request: HttpRequest, report: ValueReport) -> dict[str, Any]:
    user = request.user
    submitted = report.status == ReportStatus.SUBMITTED
    has_verdict = hasattr(report, "verdict")
    not_owed = services.not_owed_reason(report) if not submitted else None
    judged = submitted and not has_verdict
    can_give_verdict = judged and may(user, "reviews.give_verdict", report)
    # One rule today (the independent reviewer's): asked once, and asked again should the rules ever differ.
    can_reopen = (can_give_verdict if same_rule("reviews.give_verdict", "reviews.reopen_valuereport")
                  else judged and may(user, "reviews.reopen_valuereport", report))
    return {
        "report": report,
        "figures": selectors.report_figures(report),
        "state": report.state,
        "not_owed_reason": not_owed,
        "submitted_on_behalf": submitted and selectors.submitted_on_behalf(report),
        "can_edit": not submitted and not_owed is None and may(user, "reviews.change_valuereport", report),
        "can_give_verdict": can_give_verdict,
        "can_reopen": can_reopen,
    }


class ReportActionView(ReportObjectMixin, PermissionRequiredMixin, View):
    """POST-only action on a report; an invalid form re-renders the detail page with its errors (nothing written)."""

    form_class: type
    form_context_name = ""

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return HttpResponseRedirect(self.get_report().get_absolute_url())

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        report = self.get_report()
        form = self.form_class(request.POST)
        refused = False
        if form.is_valid():
            try:
                message = self.act(report, form.cleaned_data)
            except ValidationError as error:
                if hasattr(error, "error_dict"):
                    form_add_service_errors(form, error)
                else:  # the report changed under the form (a verdict given meanwhile, say), which may not show now
                    message_service_errors(request, error, suffix=self.not_recorded(form.cleaned_data))
                    refused = True
            else:
                messages.success(request, message)
                return HttpResponseRedirect(report.get_absolute_url())
        if form.errors and not refused:
            # The form sits at the foot of a long page, which reloads at its top: say up there that nothing was
            # recorded and which field to correct, as the other decision pages do.
            fields = [f"“{form[name].label}”" for name in form.errors if name in form.fields]
            messages.error(request, "Nothing was recorded: " + (f"correct {', '.join(fields)} below."
                                                                if fields else "see the form below."))
        context = report_context(request, report)
        context.update({"verdict_form": VerdictForm(), "reopen_form": ReopenForm(), self.form_context_name: form})
        return render(request, "reviews/report_detail.html", context, status=400 if form.errors or refused else 200)

    def act(self, report: ValueReport, data: dict[str, Any]) -> str:
        raise NotImplementedError

    def not_recorded(self, data: dict[str, Any]) -> str:
        """What the refused form held, said with the refusal so that nothing typed is lost without a trace."""
        return ""


class VerdictView(ReportActionView):
    permission_required = "reviews.give_verdict"
    form_class = VerdictForm
    form_context_name = "verdict_form"

    def act(self, report: ValueReport, data: dict[str, Any]) -> str:
        verdict = services.verdict_give(actor=request_actor(self.request), report=report, decision=data["decision"],
                                        rationale=data["rationale"])
        return f"Verdict recorded: {verdict.get_decision_display()}."

    def not_recorded(self, data: dict[str, Any]) -> str:
        return f" Yours was not recorded ({Decision(data['decision']).label}: “{data['rationale']}”)."


class ReopenView(ReportActionView):
    permission_required = "reviews.reopen_valuereport"
    form_class = ReopenForm
    form_context_name = "reopen_form"

    def act(self, report: ValueReport, data: dict[str, Any]) -> str:
        services.value_report_reopen(actor=request_actor(self.request), report=report, reason=data["reason"])
        return "Report reopened; the owner has been notified."


class ReportEditView(ReportObjectMixin, PermissionRequiredMixin, View):
    """A row per KPI with its actual, the period's figures, evidence; Save draft or Submit, in one transaction."""

    permission_required = "reviews.change_valuereport"
    template_name = "reviews/report_form.html"

    def render_page(self, form: ValueReportForm, status: int = 200) -> HttpResponse:
        report = self.get_report()
        context = {"form": form, **report_context(self.request, report)}
        context["kpi_rows"] = form.kpi_rows(context["figures"])
        return render(self.request, self.template_name, context, status=status)

    def not_editable(self, report: ValueReport) -> HttpResponse | None:
        """A submitted report, or a draft no longer or not yet owed (closed cycle, ended initiative, cycle that does
        not take reports yet), is read on its page, with the reason, rather than shown as a form whose save would be
        refused (services.value_report_save_draft says the same)."""
        if report.status != ReportStatus.DRAFT:
            final = services.not_reopenable_reason(report)
            messages.info(self.request, f"This report is submitted and final: {final[0].lower()}{final[1:]}" if final
                          else "This report is submitted; a reviewer may reopen it.")
        elif reason := services.not_owed_reason(report):
            messages.info(self.request, reason)
        else:
            return None
        return HttpResponseRedirect(report.get_absolute_url())

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        report = self.get_report()
        return self.not_editable(report) or self.render_page(ValueReportForm(instance=report))

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        report = self.get_report()
        refused = self.not_editable(report)
        if refused:
            return refused
        # A separate instance: ModelForm validation writes the posted values onto it, the service gets a clean one.
        form = ValueReportForm(request.POST, request.FILES, instance=ValueReport.objects.get(pk=report.pk))
        if not form.is_valid():
            return self.render_page(form, status=400)
        submit = request.POST.get("action") == "submit"
        actor = request_actor(request)
        try:
            with transaction.atomic():
                services.value_report_save_draft(actor=actor, report=report, fields=form.service_fields(),
                                                 kpi_actuals=form.service_actuals(), kpi_stated=form.service_stated())
                for attachment in form.cleaned_data.get("remove_attachments") or ():
                    services.attachment_remove(actor=actor, attachment=attachment)
                if form.cleaned_data.get("attachment"):
                    services.attachment_add(actor=actor, report=report, file=form.cleaned_data["attachment"])
                if submit:
                    services.value_report_submit(actor=actor, report=report)
        except ValidationError as error:
            rest = form.take_kpi_actual_errors(error)
            if hasattr(rest, "error_dict"):
                form.add_missing_kpi_errors(set(rest.error_dict))
            form_add_service_errors(form, rest, {"file": "attachment", "attachments": "remove_attachments"})
            return self.render_page(form, status=400)
        if submit:
            messages.success(request, f"Value report of {report.initiative} submitted for review.")
            return HttpResponseRedirect(report.get_absolute_url())
        removed = [attachment.original_name for attachment in form.cleaned_data.get("remove_attachments") or ()]
        messages.success(request, "Draft saved." + (f" Removed: {', '.join(removed)}." if removed else ""))
        return HttpResponseRedirect(reverse("reviews:report_edit", args=[report.pk]))


class AttachmentDownloadView(PermissionRequiredMixin, View):
    """Attachments are served through a permission check, never from a public media URL."""

    permission_required = "reviews.view_valuereport"

    def get(self, request: HttpRequest, pk: int) -> FileResponse:
        attachment = get_object_or_404(ReportAttachment, pk=pk)
        try:
            handle = attachment.file.open("rb")
        except FileNotFoundError as exc:
            raise Http404("The file is no longer stored.") from exc
        return FileResponse(handle, as_attachment=True, filename=attachment.original_name)


# Reviewer queue ------------------------------------------------------------------------------------------------------


class QueueView(ListPageView):
    permission_required = "governance.view_reviewqueue"
    list_selector = staticmethod(selectors.review_queue)
    filterset_class = QueueFilterSet
    table_class = QueueTable
    export_name = "reports-awaiting-verdict"
    title = "Reports awaiting a verdict"
    intro = "Submitted value reports without a verdict, except those of initiatives you own or act for."


# Cycles --------------------------------------------------------------------------------------------------------------


class CycleListView(ListPageView):
    permission_required = "reviews.view_reviewcycle"
    list_selector = staticmethod(selectors.cycle_list)
    filterset_class = ReviewCycleFilterSet
    table_class = ReviewCycleTable
    template_name = "reviews/cycle_list.html"
    export_name = "review-cycles"
    title = "Review cycles"
    intro = "Each quarter, every initiative in pilot or production proves its value in a report."

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["can_manage"] = may(self.request.user, "reviews.manage_reviewcycle")
        return context


class CycleDetailView(ListPageView):
    """Submitted / due / overdue per department (table and stacked bar chart) and the cycle's reports."""

    permission_required = "reviews.view_reviewcycle"
    filterset_class = ValueReportFilterSet
    table_class = ValueReportTable
    template_name = "reviews/cycle_detail.html"

    def get_cycle(self) -> ReviewCycle:
        if not hasattr(self, "_cycle"):
            self._cycle = get_object_or_404(ReviewCycle.objects.select_related("created_by"), pk=self.kwargs["pk"])
        return self._cycle

    def get_export_filename(self, export_format: str) -> str:
        return f"value-reports-{self.get_cycle().name}.{export_format}"

    def get_queryset(self) -> QuerySet:
        return selectors.cycle_reports(self.get_cycle())

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        cycle = self.get_cycle()
        progress = selectors.cycle_progress_by_department(cycle)
        context.update(
            cycle=cycle, title=f"Review cycle {cycle.name}", progress=progress,
            totals={key: sum(getattr(row, key) for row in progress) for key in (
                "submitted", "due", "overdue", "not_open", "not_submitted", "not_expected")},
            progress_figure=selectors.cycle_progress_figure(progress),
            can_manage=may(self.request.user, "reviews.manage_reviewcycle"),
        )
        return context


class CycleCreateView(PermissionRequiredMixin, View):
    """Open a cycle. Beside the period the form says what opening it means (selectors.cycle_opening): how many
    initiatives would owe a report and which months have cost data; "Check this period" re-renders it for the dates
    typed in, without opening anything."""

    permission_required = "reviews.manage_reviewcycle"
    template_name = "reviews/cycle_form.html"

    def render_form(self, form: ReviewCycleForm, status: int = 200) -> HttpResponse:
        period = form.period()
        opening = selectors.cycle_opening(period_start=period[0], period_end=period[1]) if period else None
        return render(self.request, self.template_name, {"form": form, "opening": opening}, status=status)

    def get(self, request: HttpRequest) -> HttpResponse:
        return self.render_form(ReviewCycleForm())

    def post(self, request: HttpRequest) -> HttpResponse:
        form = ReviewCycleForm(request.POST)
        if "preview" in request.POST:
            return self.render_form(form, status=200 if form.is_valid() else 400)
        if form.is_valid():
            try:
                opened = services.review_cycle_get_or_open(actor=request_actor(request), **form.cleaned_data)
            except ValidationError as error:
                form_add_service_errors(form, error)
            else:
                cycle = opened.cycle
                messages.success(request, opened.message())
                return HttpResponseRedirect(cycle.get_absolute_url())
        return self.render_form(form, status=400)


class CycleDatesView(PermissionRequiredMixin, View):
    """Change an open cycle's due date (or a cycle not yet open's opening date): the deadline extended for everyone."""

    permission_required = "reviews.manage_reviewcycle"
    template_name = "reviews/cycle_dates.html"

    def render_page(self, cycle: ReviewCycle, form: ReviewCycleDatesForm, status: int = 200) -> HttpResponse:
        owed = cycle.reports.filter(selectors.owed_drafts_q()).count()
        return render(self.request, self.template_name, {"cycle": cycle, "form": form, "owed": owed}, status=status)

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        cycle = get_object_or_404(ReviewCycle, pk=pk)
        if cycle.closed_at is not None:
            messages.info(request, f"Cycle {cycle.name} is closed: its dates no longer change.")
            return HttpResponseRedirect(cycle.get_absolute_url())
        return self.render_page(cycle, ReviewCycleDatesForm(cycle=cycle))

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        cycle = get_object_or_404(ReviewCycle, pk=pk)
        form = ReviewCycleDatesForm(request.POST, cycle=cycle)
        if form.is_valid():
            before = (cycle.opens_on, cycle.due_on)
            try:
                cycle = services.review_cycle_reschedule(actor=request_actor(request), cycle=cycle,
                                                         **form.cleaned_data)
            except ValidationError as error:
                form_add_service_errors(form, error)
            else:
                if (cycle.opens_on, cycle.due_on) == before:
                    messages.info(request, f"Cycle {cycle.name}: the dates are unchanged.")
                else:
                    messages.success(request, f"Cycle {cycle.name} opens {cycle.opens_on:%Y-%m-%d} and is due "
                                              f"{cycle.due_on:%Y-%m-%d}; the owners of reports still owed were told.")
                return HttpResponseRedirect(cycle.get_absolute_url())
        return self.render_page(cycle, form, status=400)


class CycleCloseView(PermissionRequiredMixin, View):
    """Confirm, then close a cycle: its drafts can no longer be submitted, so the page says how many are left."""

    permission_required = "reviews.manage_reviewcycle"
    template_name = "reviews/cycle_confirm_close.html"

    def render_page(self, cycle: ReviewCycle, error: str = "", status: int = 200) -> HttpResponse:
        return render(self.request, self.template_name, {
            "cycle": cycle, "counts": selectors.report_state_counts(cycle.reports.all()), "error": error,
        }, status=status)

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        cycle = get_object_or_404(ReviewCycle, pk=pk)
        if cycle.closed_at is not None:
            messages.info(request, f"Cycle {cycle.name} is already closed.")
            return HttpResponseRedirect(cycle.get_absolute_url())
        return self.render_page(cycle)

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        cycle = get_object_or_404(ReviewCycle, pk=pk)
        if request.POST.get("confirm") != "yes" and cycle.closed_at is None:
            return self.render_page(cycle, "Tick the box to confirm closing the cycle; it is still open.", status=400)
        try:
            services.review_cycle_close(actor=request_actor(request), cycle=cycle)
        except ValidationError as error:
            message_service_errors(request, error)
        else:
            messages.success(request, f"Cycle {cycle.name} closed.")
        return HttpResponseRedirect(cycle.get_absolute_url())


# Notifications -------------------------------------------------------------------------------------------------------


class NotificationListView(ListPageView):
    permission_required = "reviews.view_notification"
    list_selector = staticmethod(selectors.notifications_of)
    filterset_class = NotificationFilterSet
    table_class = NotificationTable
    template_name = "reviews/notification_list.html"
    export_name = "notifications"
    title = "Notifications"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        profile = profile_of(request_actor(self.request))
        context["email_mode"] = profile.notification_email if profile else NotificationEmail.EACH
        context["digest_hour"] = profile.digest_hour if profile else None
        return context


class NotificationsReadView(PermissionRequiredMixin, View):
    """Mark one (id=...) or all of the user's own notifications read."""

    permission_required = "reviews.view_notification"

    def post(self, request: HttpRequest) -> HttpResponse:
        raw = request.POST.get("id")
        ids = None if not raw else record_ids([raw])  # an id no notification can have marks none, not all
        count = services.notifications_mark_read(actor=request_actor(request), ids=ids)
        messages.success(request, f"{count} notification{'s' if count != 1 else ''} marked read.")
        return HttpResponseRedirect(reverse("reviews:notification_list"))
