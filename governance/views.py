"""Governance pages: reviewer queue, intake scoring, transitions, audit trail, policies and the rubric.

Views stay thin: they check access (tollgate.roles via PermissionRequiredMixin), read through
governance.selectors and write through governance.services.
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views import View
from django.views.generic import ListView
from django_tables2 import SingleTableMixin

from governance import evidence, guards, selectors, services
from governance.filtersets import AuditFilterSet
from governance.forms import PolicyForm, ScoringForm, TransitionForm
from governance.lifecycle import TRANSITIONS, Transition
from governance.policies import BY_KEY
from governance.signals import selectors as signal_selectors
from governance.sprawl import selectors as sprawl_selectors
from governance.sprawl import views as sprawl_views
from governance.tables import AuditTable, PolicyTable, ReviewQueueTable, RubricTable
from portfolio import selectors as portfolio_selectors
from portfolio.models import Initiative
from tollgate.formatting import format_number
from tollgate.roles import may
from tollgate.types import request_actor
from tollgate.ui.errors import form_add_service_errors
from tollgate.ui.views import ListPageView, PermissionRequiredMixin


class InitiativePageMixin:
    """Pages about one initiative: loaded once, and the object of the permission check."""

    request: HttpRequest
    kwargs: dict[str, Any]

    def get_initiative(self) -> Initiative:
        if not hasattr(self, "_initiative"):
            queryset = Initiative.objects.select_related("department", "owner", "business_case")
            self._initiative = get_object_or_404(queryset, pk=self.kwargs["pk"])
        return self._initiative

    def get_permission_object(self) -> Initiative:
        return self.get_initiative()


# Reviewer queue ----------------------------------------------------------------------------------------------------


class ReviewQueueView(ListPageView):
    permission_required = "governance.view_reviewqueue"
    template_name = "governance/list.html"
    list_selector = staticmethod(selectors.review_queue)
    table_class = ReviewQueueTable
    export_name = "review-queue"
    title = "Review queue"
    intro = ("Intakes in review that still need your score in their current round. Intakes you own or are delegate "
             "for, and rounds you submitted or edited, are not listed: someone independent scores them.")

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["reports_waiting"] = evidence.reviewer_backlog(self.request.user)
        context["signals_waiting"] = signal_selectors.signals_awaiting_decision(
            user=self.request.user, limit=signal_selectors.QUEUE_SIGNALS)
        shown = len(context["signals_waiting"])
        context["signals_waiting_total"] = (signal_selectors.signals_awaiting_decision_count(user=self.request.user)
                                            if shown >= signal_selectors.QUEUE_SIGNALS else shown)
        return context


# Scoring -----------------------------------------------------------------------------------------------------------


class ScoreView(InitiativePageMixin, PermissionRequiredMixin, View):
    """The rubric, one row per active criterion; a reviewer's scores of the current round can be revised."""

    permission_required = "governance.score_initiative"
    template_name = "governance/score.html"

    def build_form(self, data: Any = None) -> tuple[ScoringForm, Any]:
        initiative = self.get_initiative()
        panel = selectors.intake_panel(initiative)
        form = ScoringForm(data, criteria=panel.criteria, initial_scores=panel.scores_of(self.request.user))
        return form, panel

    def render_page(self, form: ScoringForm, panel: Any, status: int = 200) -> HttpResponse:
        initiative = self.get_initiative()
        case = portfolio_selectors.initiative_business_case(initiative)
        duplication = sprawl_selectors.duplication_criterion(panel.criteria)
        duplicates = sprawl_selectors.initiative_possible_duplicates(initiative)
        back = reverse("governance:score", args=[initiative.pk]) + "#intake-duplicates"
        return render(self.request, self.template_name, {
            "initiative": initiative, "business_case": case, "form": form, "panel": panel,
            "kpis": list(initiative.kpis.all()),
            # The top possible duplicates, shown beside the "reuse / duplication" criterion they inform, and in their
            # own card with the "duplicate of" / "not a duplicate" verdicts (forms cannot sit inside the score form).
            "duplication_criterion_id": duplication.pk if duplication else None,
            # The decisions that follow the scoring (approve, request changes, reject), at hand once scored: the
            # page led nowhere but back to the initiative, whose governance card has them.
            "transitions": [{"label": t.label, "style": t.style,
                             "url": reverse(f"governance:transition_{t.name}", args=[initiative.pk])}
                            for t in selectors.available_transitions(self.request.user, initiative)],
            **sprawl_views.pair_decision_context(self.request, initiative, duplicates, back=back),
        }, status=status)

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return self.render_page(*self.build_form())

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        form, panel = self.build_form(request.POST)
        if form.is_valid():
            try:
                services.intake_scores_save(actor=request_actor(request), initiative=self.get_initiative(),
                                            scores=form.service_scores())
            except ValidationError as error:
                form_add_service_errors(form, error)
            else:
                messages.success(request, f"Your scores for “{self.get_initiative().name}” are saved.")
                return HttpResponseRedirect(reverse("governance:score", args=[self.get_initiative().pk]))
        return self.render_page(form, panel)


# Transitions -------------------------------------------------------------------------------------------------------


class TransitionView(InitiativePageMixin, PermissionRequiredMixin, View):
    """What a transition will do and whether its guards pass (GET); performing it with a reason (POST)."""

    template_name = "governance/transition.html"
    transition: Transition | None = None

    def get_transition(self) -> Transition:
        name = self.kwargs.get("transition") or (self.transition.name if self.transition else "")
        if name not in TRANSITIONS:
            raise Http404("No such transition.")
        return TRANSITIONS[name]

    def get_permission_required(self) -> tuple[str]:
        return (self.get_transition().permission,)

    def render_page(self, form: TransitionForm, status: int = 200) -> HttpResponse:
        initiative = self.get_initiative()
        step = self.get_transition()
        possible = initiative.stage in step.sources
        return render(self.request, self.template_name, {
            "initiative": initiative, "transition": step, "form": form, "possible": possible,
            "problems": guards.problems(step, initiative) if possible else [],
            "panel": selectors.intake_panel(initiative) if step.name == "approve" else None,
        }, status=status)

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return self.render_page(TransitionForm(needs_reason=self.get_transition().needs_reason))

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        step = self.get_transition()
        form = TransitionForm(request.POST, needs_reason=step.needs_reason)
        if form.is_valid():
            initiative = self.get_initiative()
            try:
                services.initiative_transition(actor=request_actor(request), initiative=initiative,
                                               transition=step.name, reason=form.cleaned_data["reason"])
            except ValidationError as error:
                form_add_service_errors(form, error)
            else:
                messages.success(request, f"{step.happened or step.label}: “{initiative.name}” is now in the "
                                          f"{initiative.get_stage_display()} stage.")
                return HttpResponseRedirect(initiative.get_absolute_url())
        return self.render_page(form, status=400)  # refused: nothing changed, as every other refused form says


# Audit trail -------------------------------------------------------------------------------------------------------


class AuditTrailView(ListPageView):
    permission_required = "governance.view_audittrail"
    list_selector = staticmethod(selectors.audit_entries)
    filterset_class = AuditFilterSet
    table_class = AuditTable
    table_pagination: ClassVar[dict[str, int]] = {"per_page": 50}
    export_name = "audit-trail"
    title = "Audit trail"
    intro = ("Every transition, score, verdict, policy change and field change, with who did it and why. "
             "Append-only: nothing here can be edited or deleted.")

    def get_table_kwargs(self) -> dict[str, Any]:
        # Sign-in addresses are personal data: the column (page and CSV) is an administrator's only.
        shown = may(self.request.user, "governance.view_audit_addresses")
        return {**super().get_table_kwargs(), **({} if shown else {"exclude": ("address",)})}


# Policies and rubric -----------------------------------------------------------------------------------------------


class PolicyListView(ListPageView):
    permission_required = "governance.view_policy"
    table_class = PolicyTable
    table_pagination = False
    export_name = "policies"
    title = "Policies"
    intro = "Every threshold Tollgate applies. Administrators change them; each change is kept in the audit trail."

    def get_queryset(self) -> list:
        return selectors.policy_rows()

    def get_table_kwargs(self) -> dict[str, Any]:
        return {"can_edit": may(self.request.user, "governance.change_policy")}


class PolicyEditView(PermissionRequiredMixin, View):
    permission_required = "governance.change_policy"
    template_name = "governance/policy_form.html"

    def get_definition(self):
        definition = BY_KEY.get(self.kwargs["key"])
        if definition is None:
            raise Http404("No such policy.")
        return definition

    def render_page(self, form: PolicyForm) -> HttpResponse:
        return render(self.request, self.template_name, {
            "definition": self.get_definition(), "form": form,
            "current": selectors.policy_value(self.get_definition().key),
        })

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        definition = self.get_definition()
        form = PolicyForm(definition=definition, initial={"value": selectors.policy_value(definition.key)})
        return self.render_page(form)

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        definition = self.get_definition()
        form = PolicyForm(request.POST, definition=definition)
        if form.is_valid():
            before = selectors.policy_value(definition.key)
            try:
                services.policy_set(actor=request_actor(request), key=definition.key, value=form.cleaned_data["value"])
            except ValidationError as error:
                form_add_service_errors(form, error)
            else:
                after = selectors.policy_value(definition.key)
                value = format_number(after)  # as the policy list prints it
                if after == before:
                    messages.info(request, f"{definition.label} is unchanged: it is already {value}.")
                else:
                    messages.success(request, f"{definition.label} is now {value}.")
                return HttpResponseRedirect(reverse("governance:policy_list"))
        return self.render_page(form)


class RubricView(PermissionRequiredMixin, SingleTableMixin, ListView):
    permission_required = "governance.view_rubriccriterion"
    template_name = "governance/rubric.html"
    table_class = RubricTable
    table_pagination = False

    def get_queryset(self) -> QuerySet:
        return selectors.rubric_criteria(active_only=False)

    def get_table_kwargs(self) -> dict[str, Any]:
        total = sum((c.weight for c in self.object_list if c.active), start=0)
        return {"total_weight": total}

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["can_edit"] = may(self.request.user, "governance.change_rubriccriterion")
        return context
