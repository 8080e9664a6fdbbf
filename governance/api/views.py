"""Governance API: transitions, intake scores, policies, the rubric and the audit trail.

Permissions come from tollgate.permissions.RolePermission; object rules (segregation of duties) are checked on
the initiative, and the services check them again whatever the caller did.
"""

from __future__ import annotations

from django.http import Http404
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from governance import selectors, services
from governance.api import serializers
from governance.choices import SprawlRunTrigger
from governance.filtersets import AuditFilterSet, UseCaseFilterSet
from governance.lifecycle import TRANSITIONS
from governance.models import RubricCriterion, SprawlRun
from governance.policies import BY_KEY
from governance.sprawl import selectors as sprawl_selectors
from governance.sprawl import services as sprawl_services
from portfolio.models import Initiative
from tollgate.roles import may
from tollgate.ui.errors import call_service


class TransitionView(APIView):
    """POST {transition, reason}: move the initiative along a lifecycle transition (governance.lifecycle)."""

    permission_required = "portfolio.view_initiative"

    @extend_schema(request=serializers.TransitionRequestSerializer, responses=serializers.TransitionResultSerializer)
    def post(self, request: Request, pk: int) -> Response:
        initiative = get_object_or_404(Initiative, pk=pk)
        # Someone who may make no transition at all on this initiative learns nothing more than 403.
        if not any(may(request.user, t.permission, initiative) for t in TRANSITIONS.values()):
            raise PermissionDenied("You may not move this initiative through its lifecycle.")
        body = serializers.TransitionRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        result = call_service(services.initiative_transition, actor=request.user, initiative=initiative,
                              **body.validated_data)
        data = {"id": result.pk, "external_id": result.external_id, "stage": result.stage,
                "transition": body.validated_data["transition"]}
        return Response(serializers.TransitionResultSerializer(data).data)


class ScoresView(APIView):
    """GET: the current round's scores, weighted score and quorum. POST {scores: [{criterion, score, comment}]}:
    record the caller's scores for every active criterion (independent reviewers only)."""

    permission_required = {"GET": "portfolio.view_initiative", "HEAD": "portfolio.view_initiative",
                           "OPTIONS": "portfolio.view_initiative", "POST": "governance.score_initiative"}

    def get_initiative(self, request: Request, pk: int) -> Initiative:
        initiative = get_object_or_404(Initiative, pk=pk)
        self.check_object_permissions(request, initiative)
        return initiative

    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request: Request, pk: int) -> Response:
        initiative = self.get_initiative(request, pk)
        return Response(serializers.intake_panel_data(selectors.intake_panel(initiative)))

    @extend_schema(request=serializers.ScoresRequestSerializer, responses=OpenApiTypes.OBJECT)
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
class PolicyViewSet(viewsets.ViewSet):
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
        return Response(serializers.PolicySerializer(selectors.policy_rows(), many=True).data)

    def retrieve(self, request: Request, key: str) -> Response:
        return Response(serializers.PolicySerializer(self.get_row(key)).data)

    def partial_update(self, request: Request, key: str) -> Response:
        if key not in BY_KEY:
            raise Http404("No such policy.")
        self.get_row(key)
        body = serializers.PolicyUpdateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        call_service(services.policy_set, actor=request.user, key=key, value=body.validated_data["value"])
        return Response(serializers.PolicySerializer(self.get_row(key)).data)

    update = partial_update


class RubricCriterionViewSet(viewsets.ReadOnlyModelViewSet):
    """The intake rubric (edited by administrators in the Django admin)."""

    queryset = RubricCriterion.objects.order_by("order", "name")
    serializer_class = serializers.RubricCriterionSerializer
    filterset_fields = ["active"]


class AuditEntryViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """The audit trail, newest first; ?initiative=<external id or name>&actor=<id>&event=<event>&since=&until=."""

    permission_required = "governance.view_audittrail"
    serializer_class = serializers.AuditEntrySerializer
    filterset_class = AuditFilterSet
    ordering_fields = ["timestamp"]

    def get_queryset(self):
        return selectors.audit_entries(user=self.request.user)


# Sprawl detection ----------------------------------------------------------------------------------------------------


@extend_schema_view(
    create=extend_schema(request=serializers.UseCaseWriteSerializer, responses=serializers.UseCaseSerializer),
    partial_update=extend_schema(request=serializers.UseCaseWriteSerializer, responses=serializers.UseCaseSerializer),
    update=extend_schema(request=serializers.UseCaseWriteSerializer, responses=serializers.UseCaseSerializer),
)
class UseCaseViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The use-case catalogue with initiative count and monthly spend ("spend by use case"); administrators add
    (POST) and edit (PATCH) use cases. Looked up by code; deactivate (is_active=false) instead of deleting."""

    serializer_class = serializers.UseCaseSerializer
    lookup_field = "code"
    filterset_class = UseCaseFilterSet
    ordering_fields = ["name", "code", "initiative_count", "monthly_spend"]
    permission_required = {"list": "governance.view_usecase", "retrieve": "governance.view_usecase",
                           "create": "governance.add_usecase", "partial_update": "governance.change_usecase",
                           "update": "governance.change_usecase"}

    def get_queryset(self):
        return sprawl_selectors.use_cases_with_figures().order_by("name")

    def create(self, request: Request) -> Response:
        body = serializers.UseCaseWriteSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        use_case = call_service(sprawl_services.use_case_create, actor=request.user, code=data.pop("code", ""),
                                **data)
        return Response(serializers.UseCaseSerializer(self.get_queryset().get(pk=use_case.pk)).data, status=201)

    def partial_update(self, request: Request, code: str) -> Response:
        use_case = self.get_object()
        body = serializers.UseCaseWriteSerializer(data=request.data, partial=True)
        body.is_valid(raise_exception=True)
        data = {k: v for k, v in body.validated_data.items() if k != "code"}
        call_service(sprawl_services.use_case_update, actor=request.user, use_case=use_case, **data)
        return Response(serializers.UseCaseSerializer(self.get_queryset().get(pk=use_case.pk)).data)

    update = partial_update


class SprawlClusterViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Sprawl clusters (?status=open|confirmed|dismissed, default any); independent reviewers and administrators
    confirm, dismiss (reason required) or remove a member (reason required)."""

    serializer_class = serializers.SprawlClusterSerializer
    filterset_fields = ["status"]
    ordering_fields = ["estimated_saving", "monthly_spend", "score", "first_seen_at"]
    permission_required = {"list": "governance.view_sprawlcluster", "retrieve": "governance.view_sprawlcluster",
                           "confirm": "governance.decide_sprawlcluster", "dismiss": "governance.decide_sprawlcluster",
                           "remove_member": "governance.decide_sprawlcluster"}

    def get_queryset(self):
        return sprawl_selectors.sprawl_clusters().select_related("decided_by")

    def _cluster_data(self, pk: int) -> dict:
        return serializers.SprawlClusterSerializer(self.get_queryset().get(pk=pk)).data

    def _decide(self, request: Request, service) -> Response:
        cluster = self.get_object()
        body = serializers.SprawlDecisionSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        call_service(service, actor=request.user, cluster=cluster, reason=body.validated_data["reason"])
        return Response(self._cluster_data(cluster.pk))

    @extend_schema(request=serializers.SprawlDecisionSerializer, responses=serializers.SprawlClusterSerializer)
    @action(detail=True, methods=["post"])
    def confirm(self, request: Request, pk: int) -> Response:
        return self._decide(request, sprawl_services.sprawl_cluster_confirm)

    @extend_schema(request=serializers.SprawlDecisionSerializer, responses=serializers.SprawlClusterSerializer)
    @action(detail=True, methods=["post"])
    def dismiss(self, request: Request, pk: int) -> Response:
        return self._decide(request, sprawl_services.sprawl_cluster_dismiss)

    @extend_schema(request=serializers.SprawlMemberRemoveSerializer, responses=serializers.SprawlClusterSerializer)
    @action(detail=True, methods=["post"], url_path="remove-member")
    def remove_member(self, request: Request, pk: int) -> Response:
        cluster = self.get_object()
        body = serializers.SprawlMemberRemoveSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        initiative = Initiative.objects.filter(pk=body.validated_data["initiative"]).first()
        if initiative is None:
            raise ValidationError({"initiative": [f"No initiative with id {body.validated_data['initiative']}."]})
        call_service(sprawl_services.sprawl_member_remove, actor=request.user, cluster=cluster,
                     initiative=initiative, reason=body.validated_data["reason"])
        return Response(self._cluster_data(cluster.pk))


@extend_schema_view(create=extend_schema(request=None, responses=serializers.SprawlRunSerializer))
class SprawlRunViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Sprawl recomputations; POST (reviewers and administrators) queues one, or returns the one already queued."""

    serializer_class = serializers.SprawlRunSerializer
    permission_required = {"list": "governance.view_sprawlrun", "retrieve": "governance.view_sprawlrun",
                           "create": "governance.recompute_sprawl"}

    def get_queryset(self):
        return SprawlRun.objects.order_by("-created_at", "-id")

    def create(self, request: Request) -> Response:
        run = call_service(sprawl_services.sprawl_run_submit, actor=request.user, trigger=SprawlRunTrigger.API)
        return Response(serializers.SprawlRunSerializer(run).data, status=202)


class PossibleDuplicatesView(APIView):
    """GET: the initiative's top 5 possible duplicates, best first, with the reasons."""

    permission_required = "portfolio.view_initiative"

    @extend_schema(responses=serializers.PossibleDuplicateSerializer(many=True))
    def get(self, request: Request, pk: int) -> Response:
        initiative = get_object_or_404(Initiative, pk=pk)
        self.check_object_permissions(request, initiative)
        duplicates = sprawl_selectors.initiative_possible_duplicates(initiative)
        return Response(serializers.PossibleDuplicateSerializer(duplicates, many=True).data)


class InitiativeUseCasesView(APIView):
    """GET: the initiative's use cases (confirmed first, with confidence). PUT {use_cases: [code, ...]}: confirm
    them (whoever may edit the initiative, and CoE reviewers); an empty list hands it back to suggestions."""

    # Who may set them depends on the initiative (its editors), so PUT is checked on the object below.
    permission_required = "portfolio.view_initiative"

    def get_initiative(self, request: Request, pk: int) -> Initiative:
        initiative = get_object_or_404(Initiative, pk=pk)
        self.check_object_permissions(request, initiative)
        return initiative

    @extend_schema(responses=serializers.InitiativeUseCaseSerializer(many=True))
    def get(self, request: Request, pk: int) -> Response:
        initiative = self.get_initiative(request, pk)
        links = sprawl_selectors.initiative_use_cases(initiative)
        return Response(serializers.InitiativeUseCaseSerializer(links, many=True).data)

    @extend_schema(request=serializers.InitiativeUseCasesWriteSerializer,
                   responses=serializers.InitiativeUseCaseSerializer(many=True))
    def put(self, request: Request, pk: int) -> Response:
        initiative = self.get_initiative(request, pk)
        if not may(request.user, "governance.set_initiative_use_cases", initiative):
            raise PermissionDenied("Only those who may edit the initiative, and CoE reviewers, set its use cases.")
        body = serializers.InitiativeUseCasesWriteSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        call_service(sprawl_services.initiative_use_cases_set, actor=request.user, initiative=initiative,
                     use_case_codes=body.validated_data["use_cases"])
        links = sprawl_selectors.initiative_use_cases(initiative)
        return Response(serializers.InitiativeUseCaseSerializer(links, many=True).data)
