"""The API's pages: 50 rows unless the caller asks for another size with `?page_size=` (at most 500).

DRF's own class falls back to 50 rows without a word when `page_size` is not a number; a script that asked for 200
and got 50 would count wrong, so a size that is not a whole number from 1 up is refused by name (400). A size above
the most is served at the most: the answer's `count` and `next` still say there is more. Likewise `?page=` is a whole
number from 1 (or `last`): DRF answered `?page=0` or `?page=abc` with 404 "Invalid page." as if the list had ended;
they are a 400 naming `page`. A page past the end stays a 404 (the request was well formed, the page is not there),
saying how many rows and pages the list has rather than DRF's bare "Invalid page.", so a script can tell a list that
shrank while it paged from a wrong number.
"""

from __future__ import annotations

from typing import Any

from django.core.paginator import Paginator
from rest_framework import pagination
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.request import Request

PAGE_SIZE = 50
MAX_PAGE_SIZE = 500


class PageNumberPagination(pagination.PageNumberPagination):
    page_size = PAGE_SIZE
    page_size_query_param = "page_size"
    page_size_query_description = (
        f"Rows per page: {PAGE_SIZE} unless given, at most {MAX_PAGE_SIZE} (a larger size is served at the most)."
    )
    max_page_size = MAX_PAGE_SIZE

    def get_page_size(self, request: Request) -> int:
        raw = request.query_params.get(self.page_size_query_param, "")
        if raw == "":
            return self.page_size
        size = int(raw) if raw.isdecimal() and raw.isascii() else 0
        if size < 1:
            raise ValidationError({self.page_size_query_param: [
                f"A whole number of rows from 1 to {self.max_page_size}, not “{raw[:40]}”."]})
        return min(size, self.max_page_size)

    def paginate_queryset(self, queryset: Any, request: Request, view: Any = None) -> list[Any] | None:
        try:
            return super().paginate_queryset(queryset, request, view)
        except NotFound:
            paginator = self._paginator
            rows = "no rows" if paginator.count == 0 else f"{paginator.count} row{'s' if paginator.count != 1 else ''}"
            pages = f"{paginator.num_pages} page{'s' if paginator.num_pages != 1 else ''}"
            raise NotFound(f"Page {self._page_number} is past the end of this list: it has {rows}, on {pages} of "
                           f"{paginator.per_page}; the last is page {paginator.num_pages}.") from None

    def get_page_number(self, request: Request, paginator: Paginator) -> int | str:
        self._paginator, self._page_number = paginator, self._page_number_asked(request, paginator)
        return self._page_number

    def _page_number_asked(self, request: Request, paginator: Paginator) -> int | str:
        raw = request.query_params.get(self.page_query_param, "")
        if raw == "" or raw in self.last_page_strings:
            return super().get_page_number(request, paginator)
        number = int(raw) if raw.isdecimal() and raw.isascii() else 0
        if number < 1:
            last = " or “last”" if self.last_page_strings else ""
            raise ValidationError({self.page_query_param: [
                f"A page is a whole number from 1{last}, not “{raw[:40]}”."]})
        return number

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_query_param:
                parameter["schema"] = {"type": "integer", "minimum": 1}
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"] = {"type": "integer", "minimum": 1, "maximum": self.max_page_size,
                                       "default": self.page_size}
        return parameters
