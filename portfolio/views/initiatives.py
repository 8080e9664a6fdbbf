"""Initiative pages: the portfolio list, the detail page and the one-page register / edit form.

Views stay thin: they check access (tollgate.roles via PermissionRequiredMixin), read through
portfolio.selectors and write through portfolio.services.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.forms import BaseForm
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.views import View
from django.views.generic import DetailView

from portfolio import selectors
from portfolio.filtersets import InitiativeFilterSet
from portfolio.forms import BaseKPIFormSet, BusinessCaseForm, InitiativeForm, StartDateChangeForm, kpi_formset
from portfolio.models import Initiative
from portfolio.services import (
    business_case_save,
    initiative_create,
    initiative_start_date_change,
    initiative_update,
    kpis_replace,
    plan_edit,
)
from portfolio.tables import InitiativeTable
from portfolio.views.periods import CostPeriodsMixin
from tollgate.roles import may
from tollgate.types import request_actor
from tollgate.ui.errors import form_add_service_errors
from tollgate.ui.views import ListPageView, PermissionRequiredMixin


class InitiativeListView(CostPeriodsMixin, ListPageView):
    permission_required = "portfolio.view_initiative"
    list_selector = staticmethod(selectors.initiative_list)
    filterset_class = InitiativeFilterSet
    table_class = InitiativeTable
    totals_selector = staticmethod(selectors.initiative_summary)  # the figures above the table and its totals row
    template_name = "portfolio/initiative_list.html"
    export_name = "initiatives"
    title = "Portfolio"
    intro = "Every AI initiative, who owns it, what it declares to cost and what it actually costs."

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        if not self.exporting:  # the CSV is the rows alone
            context["summary"] = self.list_totals
            context["cost_by_stage"] = selectors.declared_cost_by_stage_figure(self.object_list)
        context["can_register"] = may(self.request.user, "portfolio.add_initiative")
        return context


class InitiativeDetailView(PermissionRequiredMixin, DetailView):
    permission_required = "portfolio.view_initiative"
    template_name = "portfolio/initiative_detail.html"
    context_object_name = "initiative"

    def get_queryset(self) -> QuerySet[Initiative]:
        return selectors.initiative_detail_queryset(user=self.request.user)

    def get_permission_object(self) -> None:
        # Reading is a role-wide permission, not an object one: a 403 for no role, a 404 for a missing id.
        return None

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        initiative = self.object
        case = selectors.initiative_business_case(initiative)
        read_only = selectors.read_only_reason(initiative)
        context.update(
            business_case=case,
            tco_split=selectors.business_case_tco_split(case) if case else [],
            can_edit=read_only is None and may(self.request.user, "portfolio.change_initiative", initiative),
            # An independent CoE reviewer (or an administrator) moves a running initiative's start date, with a reason.
            can_change_start_date=selectors.start_date_change_refusal(initiative) is None
            and may(self.request.user, "portfolio.change_start_date", initiative),
            read_only_reason=read_only,
            plan_locked_reason=selectors.plan_locked_reason(initiative),
            plan_history=selectors.initiative_plan_history(initiative),
        )
        return context


class InitiativeFormPage(PermissionRequiredMixin, View):
    """Initiative, business case and KPIs on one page, validated together and written in one transaction."""

    template_name = "portfolio/initiative_form.html"
    success_message = ""

    def get_initiative(self) -> Initiative | None:
        return None

    def plan_locked_reason(self) -> str | None:
        initiative = self.get_initiative()
        return selectors.plan_locked_reason(initiative) if initiative is not None else None

    def build(self, data: Any = None) -> tuple[InitiativeForm, BusinessCaseForm, BaseKPIFormSet]:
        initiative = self.get_initiative()
        case = selectors.initiative_business_case(initiative) if initiative else None
        form = InitiativeForm(data, instance=initiative, user=self.request.user)
        case_form = BusinessCaseForm(data, instance=case)
        kpis = kpi_formset(initiative=initiative, data=data)
        if self.plan_locked_reason():
            # In review the plan is shown as it was submitted, not editable: the services would refuse a change.
            form.fields["declared_monthly_cost"].disabled = True
            for field in (*case_form.fields.values(), *(f for kpi in kpis.forms for f in kpi.fields.values())):
                field.disabled = True
        return form, case_form, kpis

    def render_page(self, form: InitiativeForm, case_form: BusinessCaseForm, kpis: BaseKPIFormSet, errors=()):
        initiative = self.get_initiative()
        return render(
            self.request,
            self.template_name,
            {"initiative": initiative, "form": form, "case_form": case_form, "kpi_formset": kpis,
             "page_errors": list(errors), "plan_locked_reason": self.plan_locked_reason(),
             # What the page shows now: a save compares it with what is stored then (InitiativeUpdateView).
             "edit_version": selectors.initiative_edit_version(initiative) if initiative else ""},
        )

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return self.render_page(*self.build())

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        form, case_form, kpis = self.build(request.POST)
        if not all([form.is_valid(), case_form.is_valid(), kpis.is_valid()]):
            return self.render_page(form, case_form, kpis)
        step: BaseForm | None = form
        locked = self.plan_locked_reason() is not None  # the plan's fields were not editable: nothing of it to save
        try:
            # One edit of the page is one version of an approved business case (plan_edit).
            with transaction.atomic(), plan_edit(actor=request_actor(request)):
                initiative = self.save_initiative(form)
                step = case_form
                if not locked and not case_form.untouched():
                    business_case_save(actor=request_actor(request), initiative=initiative,
                                       **case_form.service_kwargs())
                step = None
                if not locked:
                    kpis_replace(actor=request_actor(request), initiative=initiative, kpis=kpis.service_rows())
        except ValidationError as error:
            if step is None:
                return self.render_page(form, case_form, kpis, errors=error.messages)
            form_add_service_errors(step, error)
            return self.render_page(form, case_form, kpis)
        messages.success(request, self.success_message.format(name=initiative.name))
        return HttpResponseRedirect(initiative.get_absolute_url())

    def save_initiative(self, form: InitiativeForm) -> Initiative:
        raise NotImplementedError


class InitiativeCreateView(InitiativeFormPage):
    permission_required = "portfolio.add_initiative"
    success_message = "Initiative “{name}” registered. It is proposed; submit it for review when the case is ready."

    def save_initiative(self, form: InitiativeForm) -> Initiative:
        values = form.service_kwargs()
        actor = request_actor(self.request)
        owner = values.pop("owner", None) or actor
        return initiative_create(actor=actor, owner=owner, **values)


class InitiativeUpdateView(InitiativeFormPage):
    permission_required = "portfolio.change_initiative"
    success_message = "Initiative “{name}” saved."

    def get_object(self) -> Initiative:
        if not hasattr(self, "_initiative"):
            queryset = selectors.initiative_detail_queryset(user=self.request.user)
            self._initiative = get_object_or_404(queryset, pk=self.kwargs["pk"])
        return self._initiative

    def get_initiative(self) -> Initiative:
        return self.get_object()

    # PermissionRequiredMixin.dispatch checks access first: someone who may not edit still gets a 403.
    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return self.refuse_if_read_only() or super().get(request, *args, **kwargs)

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return self.refuse_if_read_only() or super().post(request, *args, **kwargs)

    def refuse_if_read_only(self) -> HttpResponse | None:
        """An ended initiative has nothing to edit: back to its page, saying why (the services refuse it anyway)."""
        reason = selectors.read_only_reason(self.get_object())
        if reason is None:
            return None
        messages.error(self.request, reason)
        return HttpResponseRedirect(self.get_object().get_absolute_url())

    def save_initiative(self, form: InitiativeForm) -> Initiative:
        # The form's instance already carries the posted values (ModelForm validation): the service gets a fresh,
        # locked row so it sees, audits and saves the real changes.
        initiative = Initiative.objects.select_for_update().get(pk=self.get_object().pk)
        opened_on = self.request.POST.get("edit_version")
        if opened_on and opened_on != selectors.initiative_edit_version(initiative):
            # Someone saved the initiative, its business case or a KPI since this page was drawn: saving now would
            # silently undo their change. The page comes back with what this person typed and the current version.
            self._initiative = initiative
            by, at = selectors.initiative_last_saved(initiative)
            when = timezone.localtime(at or initiative.updated_at).strftime("%Y-%m-%d %H:%M")
            if by is not None and by.pk == self.request.user.pk:
                raise ValidationError(
                    f"You saved this initiative at {when}, after this page was opened (in another tab, or before going "
                    "back): nothing from this page was saved, so as not to undo that. Your changes are still below; "
                    "check them against the initiative, then save again to keep them.")
            who = (by.get_full_name() or by.get_username()) if by is not None else "Someone else"
            raise ValidationError(
                f"{who} saved this initiative at {when}, while you were editing it: nothing of yours was saved. Your "
                "changes are still below; open the initiative in another tab to see theirs, then save again to keep "
                "yours.")
        return initiative_update(actor=request_actor(self.request), initiative=initiative, **form.service_kwargs())


class InitiativeStartDateView(PermissionRequiredMixin, View):
    """"Change start date": a running initiative's start date moved with a reason by someone independent of it (a
    CoE reviewer, an administrator), through initiative_start_date_change, which refuses what the edit page's
    service refuses (a date later than its first month with cost records or first submitted report's period)."""

    permission_required = "portfolio.change_start_date"
    template_name = "portfolio/initiative_start_date.html"

    def get_permission_object(self) -> Initiative:
        if not hasattr(self, "_initiative"):
            self._initiative = get_object_or_404(Initiative.objects.select_related("owner"), pk=self.kwargs["pk"])
        return self._initiative

    # PermissionRequiredMixin.dispatch checks access first: someone who may not change it gets a 403 at any stage.
    def refuse_if_not_running(self) -> HttpResponse | None:
        """Not approved yet (the owner plans it on the edit page) or ended: back to its page, saying why."""
        initiative = self.get_permission_object()
        reason = selectors.start_date_change_refusal(initiative)
        if reason is None:
            return None
        messages.error(self.request, reason)
        return HttpResponseRedirect(initiative.get_absolute_url())

    def render_page(self, form: StartDateChangeForm) -> HttpResponse:
        return render(self.request, self.template_name, {"initiative": self.get_permission_object(), "form": form})

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        initiative = self.get_permission_object()
        return self.refuse_if_not_running() or self.render_page(
            StartDateChangeForm(initial={"start_date": initiative.start_date}))

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if refused := self.refuse_if_not_running():
            return refused
        form = StartDateChangeForm(request.POST)
        if not form.is_valid():
            return self.render_page(form)
        initiative = self.get_permission_object()
        before = initiative.start_date
        try:
            initiative = initiative_start_date_change(actor=request_actor(request), initiative=initiative,
                                                      start_date=form.cleaned_data["start_date"],
                                                      reason=form.cleaned_data["reason"])
        except ValidationError as error:
            form_add_service_errors(form, error)
            return self.render_page(form)
        messages.success(request, f"Start date of “{initiative.name}” moved from {before or 'none'} to "
                                  f"{initiative.start_date}; the reason is in the audit trail.")
        return HttpResponseRedirect(initiative.get_absolute_url())
