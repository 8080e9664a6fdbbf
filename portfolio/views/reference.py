"""Reference pages: departments, cost centers, vendors, the model catalogue and licence pools."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any, ClassVar, cast
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Model, QuerySet
from django.forms import ModelForm
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views import View
from django.views.generic import DetailView
from django_tables2 import RequestConfig

from portfolio import filtersets, selectors, tables
from portfolio.forms import AIModelForm, CostCenterForm, DepartmentForm, LicencePoolForm, VendorForm
from portfolio.models import AIModel, CostCenter, Department, LicencePool, Vendor
from portfolio.services.licences import (
    first_terms_month,
    licence_pool_delete,
    licence_pool_delete_preview,
    licence_pool_save,
    this_month,
)
from portfolio.services.reference import (
    AI_MODEL_FIELDS,
    ai_model_save,
    cost_center_save,
    department_save,
    vendor_save,
)
from portfolio.views.periods import CostPeriodsMixin
from tollgate.roles import may
from tollgate.types import request_actor
from tollgate.ui.errors import form_add_service_errors
from tollgate.ui.views import PAGE_SIZE, ListPageView, PermissionRequiredMixin, table_pagination


class DepartmentListView(CostPeriodsMixin, ListPageView):
    permission_required = "portfolio.view_department"
    list_selector = staticmethod(selectors.department_list)
    totals_selector = staticmethod(selectors.group_totals)
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
    totals_selector = staticmethod(selectors.group_totals)
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
    template_name = "portfolio/vendor_list.html"

    def get_table_kwargs(self) -> dict[str, Any]:
        return {"can_edit": may(self.request.user, "portfolio.change_vendor")}

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["can_add"] = may(self.request.user, "portfolio.add_vendor")
        return context


class AIModelListView(ListPageView):
    permission_required = "portfolio.view_aimodel"
    list_selector = staticmethod(selectors.ai_model_list)
    filterset_class = filtersets.AIModelFilterSet
    table_class = tables.AIModelTable
    export_name = "models"
    title = "Models"
    intro = "The model catalogue with list prices; a smaller or open model is often enough."
    template_name = "portfolio/aimodel_list.html"

    def get_table_kwargs(self) -> dict[str, Any]:
        return {"can_edit": may(self.request.user, "portfolio.change_aimodel")}

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["can_add"] = may(self.request.user, "portfolio.add_aimodel")
        return context


class LicencePoolListView(ListPageView):
    permission_required = "portfolio.view_licencepool"
    list_selector = staticmethod(selectors.licence_pool_list)
    filterset_class = filtersets.LicencePoolFilterSet
    table_class = tables.LicencePoolTable
    export_name = "licences"
    title = "Licences"
    intro = "Seats bought in bulk for seat-based tools, and what they cost per month."
    template_name = "portfolio/licencepool_list.html"

    def get_table_kwargs(self) -> dict[str, Any]:
        return {"can_edit": may(self.request.user, "portfolio.change_licencepool")}

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["can_add"] = may(self.request.user, "portfolio.add_licencepool")
        return context


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
    """Add or edit reference data through its service (portfolio.services: validation, the audit row); the
    service's errors go on the form and nothing is written."""

    template_name = "portfolio/reference_form.html"
    model: ClassVar[type[Model]]
    form_class: ClassVar[type[ModelForm]]
    noun = ""
    list_url = ""
    list_title = ""  # the list page's title, when it is not the noun's plural

    def get_record(self) -> Any:
        if "pk" not in self.kwargs:
            return None
        if not hasattr(self, "_record"):
            self._record = get_object_or_404(self.model, pk=self.kwargs["pk"])
        return self._record

    def get_permission_object(self) -> None:
        return None  # role-wide permission; an unknown id is a 404 after the role check

    def record_url(self, record: Any) -> str:
        """Where the record is shown (the breadcrumb, Cancel, and the page a save returns to)."""
        return record.get_absolute_url()

    def page_context(self, form: ModelForm) -> dict[str, Any]:
        record = self.get_record()
        return {"form": form, "record": record, "record_url": self.record_url(record) if record else "",
                "noun": self.noun, "list_url": self.list_url, "list_title": self.list_title or f"{self.noun}s"}

    def page(self, form: ModelForm) -> HttpResponse:
        return render(self.request, self.template_name, self.page_context(form))

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
        messages.success(request, self.saved_message(saved))
        return HttpResponseRedirect(self.record_url(saved))

    def saved_message(self, saved: Any) -> str:
        return f"{self.noun[:1].upper()}{self.noun[1:]} {saved} saved."

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


class CatalogueFormView(ReferenceFormView):
    """Vendors and models have no page of their own: a save returns to the list, filtered to the record."""

    list_filter = ""

    def record_url(self, record: Any) -> str:
        return f"{reverse(self.list_url)}?{urlencode({self.list_filter: str(record)})}"


class VendorFormView(CatalogueFormView):
    model = Vendor
    form_class = VendorForm
    noun = "vendor"
    list_url = "portfolio:vendor_list"
    list_filter = "q"

    def save(self, form: ModelForm, record: Vendor | None) -> Vendor:
        return vendor_save(actor=request_actor(self.request), vendor=record,
                           **{name: form.cleaned_data[name] for name in ("name", "website")})


class VendorCreateView(VendorFormView):
    permission_required = "portfolio.add_vendor"


class VendorUpdateView(VendorFormView):
    permission_required = "portfolio.change_vendor"


class AIModelFormView(CatalogueFormView):
    model = AIModel
    form_class = AIModelForm
    noun = "model"
    list_url = "portfolio:aimodel_list"
    list_filter = "q"

    def save(self, form: ModelForm, record: AIModel | None) -> AIModel:
        return ai_model_save(actor=request_actor(self.request), model=record,
                             **{name: form.cleaned_data[name] for name in AI_MODEL_FIELDS})


class AIModelCreateView(AIModelFormView):
    permission_required = "portfolio.add_aimodel"


class AIModelUpdateView(AIModelFormView):
    permission_required = "portfolio.change_aimodel"


class LicencePoolFormView(CatalogueFormView):
    """Buy or adjust a pool through licence_pool_save: the form asks from which month new terms apply (default: this
    month, as the service's) and lists the terms history, so earlier months visibly keep their cost."""

    model = LicencePool
    form_class = LicencePoolForm
    template_name = "portfolio/licencepool_form.html"
    noun = "licence pool"
    list_url = "portfolio:licencepool_list"
    list_title = "Licences"
    list_filter = "q"

    def get(self, request: HttpRequest, **kwargs: Any) -> HttpResponse:
        record = self.get_record()
        month = this_month() if record is None else _month_default(record)
        return self.page(LicencePoolForm(instance=record, month=month))

    def record_url(self, record: Any) -> str:
        return f"{reverse(self.list_url)}?{urlencode({self.list_filter: record.tool})}"

    def page_context(self, form: ModelForm) -> dict[str, Any]:
        context = super().page_context(form)
        record = self.get_record()
        context.update(
            terms=selectors.licence_pool_terms(record) if record is not None else [],
            first_month=first_terms_month(record) if record is not None else None,
            this_month=this_month(),
            can_delete=record is not None and may(self.request.user, "portfolio.delete_licencepool", record),
        )
        return context

    def save(self, form: ModelForm, record: LicencePool | None) -> LicencePool:
        self.effective_month = form.cleaned_data["effective_from"].replace(day=1)
        return licence_pool_save(actor=request_actor(self.request), pool=record,
                                 **cast(LicencePoolForm, form).service_kwargs())

    def saved_message(self, saved: Any) -> str:
        return (f"Licence pool {saved.tool} saved: its terms apply from "
                f"{self.effective_month:%Y-%m}; earlier months keep their cost.")


def _month_default(pool: LicencePool) -> date:
    """The month the edit form proposes: this month, or the pool's first one when it starts later (the service's
    default too)."""
    first = first_terms_month(pool)
    now = this_month()
    return first if first is not None and first > now else now


class LicencePoolCreateView(LicencePoolFormView):
    permission_required = "portfolio.add_licencepool"


class LicencePoolUpdateView(LicencePoolFormView):
    # Asked without the pool: administrators only on this page (an owner adjusts their pool through the API).
    permission_required = "portfolio.change_licencepool"


class LicencePoolDeleteView(PermissionRequiredMixin, View):
    """Confirm, then delete a pool: the page lists the licence cost each month loses; licence_pool_delete recomputes
    those months and audits the deletion."""

    permission_required = "portfolio.delete_licencepool"
    template_name = "portfolio/licencepool_confirm_delete.html"

    def get_permission_object(self) -> None:
        return None  # role-wide permission; an unknown id is a 404 after the role check

    def page(self, pool: LicencePool, error: str = "") -> HttpResponse:
        charges = licence_pool_delete_preview(pool=pool)
        return render(self.request, self.template_name, {
            "pool": pool, "charges": charges, "error": error,
            "total": sum((charge.cost for charge in charges if charge.cost is not None), Decimal("0")),
        })

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        return self.page(get_object_or_404(LicencePool.objects.select_related("vendor", "initiative"), pk=pk))

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        pool = get_object_or_404(LicencePool.objects.select_related("vendor", "initiative"), pk=pk)
        if request.POST.get("confirm") != "yes":
            return self.page(pool, "Tick the box to confirm the deletion; nothing was deleted.")
        try:
            months = licence_pool_delete(actor=request_actor(request), pool=pool)
        except ValidationError as error:
            return self.page(pool, " ".join(error.messages))
        recomputed = (f" The licence cost left the roll-ups of {len(months)} month{'s' if len(months) != 1 else ''} "
                      f"({min(months):%Y-%m} to {max(months):%Y-%m})." if months else "")
        messages.success(request, f"Licence pool {pool.tool} deleted.{recomputed}")
        return HttpResponseRedirect(reverse("portfolio:licencepool_list"))
