"""The API's index pages: GET /api/ lists every family of endpoints, /api/governance/ and /api/reviews/ their own.

/api/ listed only the portfolio's records, and /api/governance/ and /api/reviews/ answered 404: a script or a person
exploring the API from its root never found the dashboard, their own account, governance or the reviews."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.urls import NoReverseMatch
from rest_framework import routers
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.reverse import reverse


class TollgateRootView(routers.APIRootView):
    """A router's records, then `families` (key -> URL name, namespace included) and `per_record` (key -> URL name
    of a path under one record: shown with `{id}` for the record's id). Only links: RolePermission needs a model, so
    anyone signed in may read it; each link answers by role."""

    permission_classes = [IsAuthenticated]
    families: Mapping[str, str] = {}
    per_record: Mapping[str, str] = {}

    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        answer = super().get(request, *args, **kwargs)
        for key, name in self.families.items():
            answer.data[key] = reverse(name, request=request)
        for key, name in self.per_record.items():
            try:
                answer.data[key] = reverse(name, kwargs={"pk": 0}, request=request).replace("/0/", "/{id}/")
            except NoReverseMatch:  # pragma: no cover - a misnamed route shows as a failing test of the index
                continue
        return answer


class TollgateRouter(routers.DefaultRouter):
    """DefaultRouter whose index is TollgateRootView, listing `families` and `per_record` beside its records."""

    APIRootView = TollgateRootView

    def __init__(self, *, families: Mapping[str, str] | None = None, per_record: Mapping[str, str] | None = None,
                 format_suffixes: bool = True) -> None:
        super().__init__()
        self.families = dict(families or {})
        self.per_record = dict(per_record or {})
        self.include_format_suffixes = format_suffixes

    def get_api_root_view(self, api_urls: Any = None) -> Any:
        api_root_dict = {prefix: self.routes[0].name.format(basename=basename)
                         for prefix, _viewset, basename in self.registry}
        return self.APIRootView.as_view(api_root_dict=api_root_dict, families=self.families,
                                        per_record=self.per_record)
