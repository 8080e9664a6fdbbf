"""The list page every app builds on, and the page mixins it is made of: permission and CSV export.

A list page declares its permission, selector (or queryset), filterset, table and titles; the base does the rest:
role check, filters (the resource's one FilterSet, shared with the API), a sortable paginated table and
?_export=csv of the filtered, sorted rows, all rendered by templates/ui/list.html.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cached_property
from typing import Any, ClassVar

from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, QueryDict
from django_filters.views import FilterView
from django_tables2 import SingleTableMixin
from django_tables2.export.views import ExportMixin
from rules.contrib.views import PermissionRequiredMixin as RulesPermissionRequiredMixin

from tollgate.pagination import MAX_PAGE_SIZE
from tollgate.roles import may, not_on_this_one, refusal, role_allows
from tollgate.ui.exports import SafeTableExport

PAGE_SIZE = 25


class TablePaginator(Paginator):
    """A table's pages: `?per_page=` asked for is served within 1..MAX_PAGE_SIZE, as the API's `page_size` is, so
    no query string makes a page render thousands of rows (django-tables2 already ignores a size that is not a whole
    number). The CSV export reads every row, not a page, and stays whole."""

    def __init__(self, object_list: Any, per_page: int | str, *args: Any, **kwargs: Any) -> None:
        super().__init__(object_list, min(max(int(per_page), 1), MAX_PAGE_SIZE), *args, **kwargs)


def table_pagination(per_page: int = PAGE_SIZE) -> dict[str, Any]:
    """The `paginate` of a django-tables2 RequestConfig that a page configures itself: its size, within the limits."""
    return {"per_page": per_page, "paginator_class": TablePaginator}


class TablePaginationMixin:
    """A page with a django-tables2 SingleTableMixin table: pages within the limits of TablePaginator (the mixin
    reads `paginator_class`)."""

    paginator_class = TablePaginator


class RoleMissing(PermissionDenied):
    """A page refused because the person's role does not allow the action anywhere: the 403 page (tollgate.views.
    permission_denied) adds that an administrator gives roles, which a refusal on one record must not suggest."""


class PermissionRequiredMixin(RulesPermissionRequiredMixin):
    """Pages check the same permissions as the API (tollgate.roles); logged-in users without one get 403."""

    raise_exception = True
    request: HttpRequest

    def has_permission(self) -> bool:
        # tollgate.roles.may, not user.has_perms: the role rules decide for superusers too.
        obj = self.get_permission_object()
        return all(may(self.request.user, perm, obj) for perm in self.get_permission_required())

    def handle_no_permission(self) -> Any:
        """403 saying what was refused in words; when the role allows the action but not on this record, the page
        says why rather than send the person to an administrator for a role they already have."""
        obj = self.get_permission_object()
        user = self.request.user
        if not user.is_authenticated:
            return super().handle_no_permission()
        perms = self.get_permission_required()
        if obj is not None and all(role_allows(user, perm) for perm in perms):
            raise PermissionDenied(not_on_this_one(user, obj))
        refused = next((perm for perm in perms if not may(user, perm)), perms[0] if perms else "")
        raise RoleMissing(refusal(user, refused))


class CsvExportMixin(ExportMixin):
    """Every list page exports its filtered, sorted rows as CSV with ?_export=csv."""

    export_class = SafeTableExport  # CSV only, formula-looking cells neutralised (tollgate/ui/exports.py)
    export_formats = ("csv",)
    export_name: str

    def get_export_filename(self, export_format: str) -> str:
        return f"{self.export_name}.{export_format}"


class ListPageView(PermissionRequiredMixin, CsvExportMixin, TablePaginationMixin, SingleTableMixin, FilterView):
    """A list page: permission, filters, sortable paginated table and ?_export=csv of the filtered, sorted rows.

    Subclasses declare the permission, the selector (called with the user) or `get_queryset`, the table, the
    filterset (none for a list without filters) and the titles; `filter_defaults` are the filter values the page
    starts from when the URL does not give them.
    """

    template_name = "ui/list.html"
    table_pagination: ClassVar[dict[str, int] | bool] = {"per_page": PAGE_SIZE}
    list_selector: ClassVar[Callable[..., QuerySet] | None] = None
    # The table's totals row: a selector of the filtered rows (every row, not the page), for a table with TotalsRow.
    totals_selector: ClassVar[Callable[..., Any] | None] = None
    filter_defaults: ClassVar[dict[str, str]] = {}
    title = ""
    intro = ""

    def get_queryset(self) -> Any:
        if self.list_selector is not None:
            return self.list_selector(user=self.request.user)
        return super().get_queryset()

    @property
    def exporting(self) -> bool:
        return bool(self.request.GET.get(self.export_trigger_param))

    @cached_property
    def list_totals(self) -> Any:
        """The totals of every row the filters match (None for a list without them): one aggregate query, for the
        page only; the CSV export is the rows alone."""
        if self.totals_selector is None or self.exporting:
            return None
        return self.totals_selector(self.object_list)

    def get_table_kwargs(self) -> dict[str, Any]:
        kwargs = super().get_table_kwargs()
        if self.totals_selector is not None and not self.exporting:
            kwargs["totals"] = self.list_totals
        return kwargs

    def get_filterset_class(self) -> Any:
        if self.filterset_class is None:
            return None  # a list without filters
        return super().get_filterset_class()

    def get_filterset_kwargs(self, filterset_class: Any) -> dict[str, Any]:
        kwargs = super().get_filterset_kwargs(filterset_class)
        missing = {name: value for name, value in self.filter_defaults.items()
                   if kwargs["data"] is None or name not in kwargs["data"]}
        if missing:
            data = kwargs["data"].copy() if kwargs["data"] is not None else QueryDict(mutable=True)
            data.update(missing)
            kwargs["data"] = data
        return kwargs

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if self.get_filterset_class() is None:
            self.object_list = self.get_queryset()
            return self.render_to_response(self.get_context_data(object_list=self.object_list))
        return super().get(request, *args, **kwargs)

    def filters_refused(self) -> bool:
        """Whether the filters asked for are refused (a range whose bounds cross, a yes/no given "maybe"): then
        nothing is listed, and the page must not read as if nothing matched."""
        filterset = getattr(self, "filterset", None)
        return filterset is not None and filterset.is_bound and not filterset.is_valid()

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context.update(title=self.title, intro=self.intro)
        table = context.get("table")
        if table is not None and self.filters_refused():
            table.empty_text = "Nothing listed: a filter above is not valid, as it says beside it."
        return context

    def render_to_response(self, context: dict[str, Any], **kwargs: Any) -> HttpResponse:
        filterset = getattr(self, "filterset", None)
        if not self.request.GET.get(self.export_trigger_param) and self.filters_refused():
            response = super().render_to_response(context, **kwargs)
            response.status_code = 400  # as the API answers the same filters
            return response
        if (self.request.GET.get(self.export_trigger_param) and filterset is not None and filterset.is_bound
                and not filterset.is_valid()):
            # The page shows what is wrong beside the filters; a file of headers only would read as "no rows".
            lines = [f"{self._filter_label(filterset, name)}: {' '.join(errors)}"
                     for name, errors in filterset.form.errors.items()]
            return HttpResponse("Nothing exported: the filters are not valid.\n" + "\n".join(lines), status=400,
                                content_type="text/plain; charset=utf-8")
        return super().render_to_response(context, **kwargs)

    @staticmethod
    def _filter_label(filterset: Any, name: str) -> str:
        field = filterset.form.fields.get(name)
        label = (field.label if field is not None else None) or getattr(filterset.filters.get(name), "label", None)
        return str(label or name.replace("_", " ").capitalize())
