"""Governance API: transitions, intake scores, policies, the rubric and the audit trail.

Permissions come from tollgate.permissions.RolePermission; object rules (segregation of duties) are checked on
the initiative, and the services check them again whatever the caller did.
"""

from __future__ import annotations

from typing import Any

from django.http import Http404
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, viewsets
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from governance import selectors, services
from governance.api import serializers
from governance.filtersets import AuditFilterSet, RubricCriterionFilterSet
from governance.lifecycle import TRANSITIONS
from governance.models import RubricCriterion
from governance.policies import BY_KEY
from portfolio.api.views import initiative_tag
from portfolio.models import Initiative
from tollgate.api_body import DeclaredBodyMixin, reads_body
from tollgate.api_query import accepted_parameters, query_parameters_check
from tollgate.conditional import if_match_check, if_match_tags, lock_row
from tollgate.roles import may, refusal_reason
from tollgate.ui.errors import call_service


class TransitionView(DeclaredBodyMixin, APIView):
    """POST {transition, reason}: move the initiative along a lifecycle transition (governance.lifecycle). With
    If-Match, the initiative's ETag (as GET /api/initiatives/<id>/ gives it): 412 when it changed since."""

    permission_required = "portfolio.view_initiative"
    honours_if_match = True  # tollgate.schema documents the header and the 412

    @extend_schema(request=serializers.TransitionRequestSerializer, responses=serializers.TransitionResultSerializer)
    @reads_body(serializer=True)
    def post(self, request: Request, pk: int) -> Response:
        initiative = get_object_or_404(Initiative, pk=pk)
        # Someone who may make no transition at all on this initiative learns nothing more than 403.
        # One whose role allows transitions elsewhere is told why not here (they own it, act for it, or wrote its
        # review round), as the pages say it.
        if not any(may(request.user, t.permission, initiative) for t in TRANSITIONS.values()):
            why = (f": {refusal_reason(request.user, initiative)}"
                   if any(may(request.user, t.permission) for t in TRANSITIONS.values()) else "")
            raise PermissionDenied(f"You may not move this initiative through its lifecycle{why}.")
        body = serializers.TransitionRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        if if_match_tags(request) is not None:
            lock_row(Initiative, pk=initiative.pk)
            if_match_check(request, lambda: initiative_tag(request, initiative.pk), "initiative")
        result = call_service(services.initiative_transition, actor=request.user, initiative=initiative,
                              **body.validated_data)
        data = {"id": result.pk, "external_id": result.external_id, "stage": result.stage,
                "transition": body.validated_data["transition"]}
        return Response(serializers.TransitionResultSerializer(data).data)


class ScoresView(DeclaredBodyMixin, APIView):
    """GET: the current round's scores, weighted score and quorum. POST {scores: [{criterion, score, comment}]}:
    record the caller's scores for every active criterion (independent reviewers only)."""

    permission_required = {"GET": "portfolio.view_initiative", "HEAD": "portfolio.view_initiative",
                           "OPTIONS": "portfolio.view_initiative", "POST": "governance.score_initiative"}

    def get_initiative(self, request: Request, pk: int) -> Initiative:
        initiative = get_object_or_404(Initiative, pk=pk)
        self.check_object_permissions(request, initiative)
        return initiative

    @extend_schema(responses=serializers.IntakePanelSerializer)
    def get(self, request: Request, pk: int) -> Response:
        initiative = self.get_initiative(request, pk)
        return Response(serializers.intake_panel_data(selectors.intake_panel(initiative)))

    @extend_schema(request=serializers.ScoresRequestSerializer, responses=serializers.IntakePanelSerializer)
    @reads_body(serializer=True)
    def post(self, request: Request, pk: int) -> Response:
        initiative = self.get_initiative(request, pk)
        body = serializers.ScoresRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        call_service(services.intake_scores_save, actor=request.user, initiative=initiative,
                     scores=body.validated_data["scores"])
        return Response(serializers.intake_panel_data(selectors.intake_panel(initiative)))


@extend_schema_view(
    list=extend_schema(responses=serializers.PolicySerializer(many=True)),
    retrieve=extend_schema(responses=serializers.PolicySerializer),
    partial_update=extend_schema(request=serializers.PolicyUpdateSerializer, responses=serializers.PolicySerializer),
    update=extend_schema(request=serializers.PolicyUpdateSerializer, responses=serializers.PolicySerializer),
)
class PolicyViewSet(DeclaredBodyMixin, viewsets.ViewSet):
    """Every policy with its value in force; administrators PATCH {value}."""

    permission_required = {"list": "governance.view_policy", "retrieve": "governance.view_policy",
                           "partial_update": "governance.change_policy", "update": "governance.change_policy"}
    lookup_field = "key"
    lookup_value_regex = r"[a-z0-9_.]+"

    def get_row(self, key: str):
        row = next((r for r in selectors.policy_rows() if r.key == key), None)
        if row is None:
            raise Http404("No such policy.")
        self.check_object_permissions(self.request, row)
        return row

    def list(self, request: Request) -> Response:
        # Not a generic list, so no filter backend sees it: the same check of its query string, by hand.
        query_parameters_check(request, accepted_parameters(request, self))
        return Response(serializers.PolicySerializer(selectors.policy_rows(), many=True).data)

    def retrieve(self, request: Request, key: str) -> Response:
        return Response(serializers.PolicySerializer(self.get_row(key)).data)

    def partial_update(self, request: Request, key: str) -> Response:
        if key not in BY_KEY:
            raise Http404("No such policy.")
        row = self.get_row(key)
        body = serializers.PolicyUpdateSerializer(row, data=request.data)  # the policy: what is sent back
        body.is_valid(raise_exception=True)
        call_service(services.policy_set, actor=request.user, key=key, value=body.validated_data["value"])
        return Response(serializers.PolicySerializer(self.get_row(key)).data)

    update = partial_update


class RubricCriterionViewSet(DeclaredBodyMixin, viewsets.ReadOnlyModelViewSet):
    """The intake rubric (edited by administrators in the Django admin)."""

    queryset = RubricCriterion.objects.order_by("order", "name")
    serializer_class = serializers.RubricCriterionSerializer
    filterset_class = RubricCriterionFilterSet
    ordering_ignoring_case = ["name"]  # sortable by any field of its answer, the name as people read it


class AuditEntryViewSet(DeclaredBodyMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    """The audit trail, newest first; ?initiative=<external id or name>&actor=<id>&event=<event>&since=&until=."""

    permission_required = "governance.view_audittrail"
    serializer_class = serializers.AuditEntrySerializer
    filterset_class = AuditFilterSet
    ordering_fields = ["timestamp"]

    def get_queryset(self):
        return selectors.audit_entries(user=self.request.user)

    def get_serializer(self, *args: Any, **kwargs: Any) -> Any:
        # A page of entries: the records their foreign-key changes name, read once for the page (one query per model).
        if kwargs.get("many") and args:
            entries = list(args[0])
            context = kwargs.setdefault("context", self.get_serializer_context())
            context["audit_names"] = selectors.audit_reference_names(entries)
            args = (entries, *args[1:])
        return super().get_serializer(*args, **kwargs)
