"""Reference pages: departments, cost centers, vendors, the model catalogue and licence pools."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.views.generic import DetailView
from django_tables2 import RequestConfig

from portfolio import filtersets, selectors, tables
from portfolio.views.periods import CostPeriodsMixin
from tollgate.ui.views import PAGE_SIZE, ListPageView, PermissionRequiredMixin, table_pagination


class DepartmentListView(CostPeriodsMixin, ListPageView):
    permission_required = "portfolio.view_department"
    list_selector = staticmethod(selectors.department_list)
    filterset_class = filtersets.DepartmentFilterSet
    table_class = tables.DepartmentTable
    export_name = "departments"
    title = "Departments"
    template_name = "portfolio/cost_figures_list.html"
    intro = "Business units, their heads, and what their AI initiatives declare and actually cost."


class CostCenterListView(CostPeriodsMixin, ListPageView):
    permission_required = "portfolio.view_costcenter"
    list_selector = staticmethod(selectors.cost_center_list)
    filterset_class = filtersets.CostCenterFilterSet
    table_class = tables.CostCenterTable
    export_name = "cost-centers"
    title = "Cost centers"
    template_name = "portfolio/cost_figures_list.html"
    intro = "The accounting units that pay for initiatives, their budget owners, and what the initiatives cost."


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
        return context
