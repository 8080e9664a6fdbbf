"""Reference pages: departments, cost centers, vendors, the model catalogue and licence pools."""

from __future__ import annotations

from typing import Any, ClassVar

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Model, QuerySet
from django.forms import ModelForm
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.views import View
from django.views.generic import DetailView
from django_tables2 import RequestConfig

from portfolio import filtersets, selectors, tables
from portfolio.forms import CostCenterForm, DepartmentForm
from portfolio.models import CostCenter, Department
from portfolio.services.reference import cost_center_save, department_save
from portfolio.views.periods import CostPeriodsMixin
from tollgate.roles import may
from tollgate.types import request_actor
from tollgate.ui.errors import form_add_service_errors
from tollgate.ui.views import PAGE_SIZE, ListPageView, PermissionRequiredMixin, table_pagination


class DepartmentListView(CostPeriodsMixin, ListPageView):
    permission_required = "portfolio.view_department"
    list_selector = staticmethod(selectors.department_list)
    filterset_class = filtersets.DepartmentFilterSet
    table_class = tables.DepartmentTable
    export_name = "departments"
    title = "Departments"
    template_name = "portfolio/department_list.html"
    intro = "Business units, their heads, and what their AI initiatives declare and actually cost."

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["can_add"] = may(self.request.user, "portfolio.add_department")
        return context


class CostCenterListView(CostPeriodsMixin, ListPageView):
    permission_required = "portfolio.view_costcenter"
    list_selector = staticmethod(selectors.cost_center_list)
    filterset_class = filtersets.CostCenterFilterSet
    table_class = tables.CostCenterTable
    export_name = "cost-centers"
    title = "Cost centers"
    template_name = "portfolio/costcenter_list.html"
    intro = "The accounting units that pay for initiatives, their budget owners, and what the initiatives cost."

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["can_add"] = may(self.request.user, "portfolio.add_costcenter")
        return context


class VendorListView(ListPageView):
    permission_required = "portfolio.view_vendor"
    list_selector = staticmethod(selectors.vendor_list)
    filterset_class = filtersets.VendorFilterSet
    table_class = tables.VendorTable
    export_name = "vendors"
    title = "Vendors"
    intro = "Companies the organisation buys AI from; many vendors for one use case is a sign of sprawl."


class AIModelListView(ListPageView):
    permission_required = "portfolio.view_aimodel"
    list_selector = staticmethod(selectors.ai_model_list)
    filterset_class = filtersets.AIModelFilterSet
    table_class = tables.AIModelTable
    export_name = "models"
    title = "Models"
    intro = "The model catalogue with list prices; a smaller or open model is often enough."


class LicencePoolListView(ListPageView):
    permission_required = "portfolio.view_licencepool"
    list_selector = staticmethod(selectors.licence_pool_list)
    filterset_class = filtersets.LicencePoolFilterSet
    table_class = tables.LicencePoolTable
    export_name = "licences"
    title = "Licences"
    intro = "Seats bought in bulk for seat-based tools, and what they cost per month."


class ReferenceDetailView(CostPeriodsMixin, PermissionRequiredMixin, DetailView):
    """A reference object with its initiatives as a sortable, paginated table of their actual cost against their
    business cases."""

    def get_permission_object(self) -> None:
        # Reading reference data is role-wide; a missing id is a 404 after the role check.
        return None

    def initiatives_table(self, queryset: QuerySet) -> tables.InitiativeCostTable:
        table = tables.InitiativeCostTable(queryset, prefix="i-", periods=self.cost_periods)
        RequestConfig(self.request, paginate=table_pagination(PAGE_SIZE)).configure(table)
        return table


class DepartmentDetailView(ReferenceDetailView):
    permission_required = "portfolio.view_department"
    template_name = "portfolio/department_detail.html"
    context_object_name = "department"
    list_selector = staticmethod(selectors.department_list)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        department = self.object
        cost_centers = tables.CostCenterTable(selectors.department_cost_centers(department, periods=self.cost_periods),
                                              prefix="cc-", periods=self.cost_periods)
        RequestConfig(self.request, paginate=False).configure(cost_centers)
        initiatives = selectors.initiative_list(user=self.request.user, periods=self.cost_periods).filter(
            department=department)
        context.update(
            can_edit=may(self.request.user, "portfolio.change_department"),
            cost_center_table=cost_centers,
            people=selectors.department_people(department),
            initiative_table=self.initiatives_table(initiatives),
        )
        return context


class CostCenterDetailView(ReferenceDetailView):
    permission_required = "portfolio.view_costcenter"
    template_name = "portfolio/costcenter_detail.html"
    context_object_name = "cost_center"
    list_selector = staticmethod(selectors.cost_center_list)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        initiatives = selectors.initiative_list(user=self.request.user, periods=self.cost_periods).filter(
            cost_center=self.object)
        context["initiative_table"] = self.initiatives_table(initiatives)
        context["can_edit"] = may(self.request.user, "portfolio.change_costcenter")
        return context


class ReferenceFormView(PermissionRequiredMixin, View):
    """Add or edit a department or cost center through its service (portfolio.services.reference: validation, the
    audit row); the service's errors go on the form and nothing is written."""

    template_name = "portfolio/reference_form.html"
    model: ClassVar[type[Model]]
    form_class: ClassVar[type[ModelForm]]
    noun = ""
    list_url = ""

    def get_record(self) -> Any:
        if "pk" not in self.kwargs:
            return None
        if not hasattr(self, "_record"):
            self._record = get_object_or_404(self.model, pk=self.kwargs["pk"])
        return self._record

    def get_permission_object(self) -> None:
        return None  # role-wide permission; an unknown id is a 404 after the role check

    def page(self, form: ModelForm) -> HttpResponse:
        return render(self.request, self.template_name, {
            "form": form, "record": self.get_record(), "noun": self.noun, "list_url": self.list_url})

    def get(self, request: HttpRequest, **kwargs: Any) -> HttpResponse:
        return self.page(self.form_class(instance=self.get_record()))

    def post(self, request: HttpRequest, **kwargs: Any) -> HttpResponse:
        record = self.get_record()
        form = self.form_class(request.POST, instance=record)
        if not form.is_valid():
            return self.page(form)
        try:
            saved = self.save(form, record)
        except ValidationError as exc:
            form_add_service_errors(form, exc)
            return self.page(form)
        messages.success(request, f"{self.noun.capitalize()} {saved} saved.")
        return HttpResponseRedirect(saved.get_absolute_url())

    def save(self, form: ModelForm, record: Any) -> Any:
        raise NotImplementedError


class DepartmentFormView(ReferenceFormView):
    model = Department
    form_class = DepartmentForm
    noun = "department"
    list_url = "portfolio:department_list"

    def save(self, form: ModelForm, record: Department | None) -> Department:
        return department_save(actor=request_actor(self.request), department=record,
                               **{name: form.cleaned_data[name] for name in ("name", "code", "head")})


class DepartmentCreateView(DepartmentFormView):
    permission_required = "portfolio.add_department"


class DepartmentUpdateView(DepartmentFormView):
    permission_required = "portfolio.change_department"


class CostCenterFormView(ReferenceFormView):
    model = CostCenter
    form_class = CostCenterForm
    noun = "cost center"
    list_url = "portfolio:costcenter_list"

    def save(self, form: ModelForm, record: CostCenter | None) -> CostCenter:
        return cost_center_save(actor=request_actor(self.request), cost_center=record,
                                move_initiatives=bool(form.cleaned_data.get("move_initiatives")),
                                **{name: form.cleaned_data[name] for name in ("code", "name", "department",
                                                                              "budget_owner")})


class CostCenterCreateView(CostCenterFormView):
    permission_required = "portfolio.add_costcenter"


class CostCenterUpdateView(CostCenterFormView):
    permission_required = "portfolio.change_costcenter"
