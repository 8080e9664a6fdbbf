"""Sprawl API: the use-case catalogue, sprawl clusters and their review, recompute runs, label checks, an
initiative's use cases, its possible duplicates and the verdicts on possible-duplicate pairs. Routed by
governance.api.urls (namespace "governance_api").

Permissions come from tollgate.permissions.RolePermission; the services check the object rules again whatever the
caller did.
"""

from __future__ import annotations

from typing import Any

from django.http import Http404
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from governance.choices import SprawlRunTrigger
from governance.models import DuplicatePairDecision, SprawlLabelCheck, SprawlRun, UseCase
from governance.sprawl import selectors as sprawl_selectors
from governance.sprawl.api import serializers
from governance.sprawl.filtersets import DuplicatePairDecisionFilterSet, SprawlClusterFilterSet, UseCaseFilterSet
from governance.sprawl.services import clusters, label_checks, pair_decisions, runs, use_cases
from portfolio.models import Initiative
from tollgate.api_body import DeclaredBodyMixin, reads_body
from tollgate.api_fields import JSONParser
from tollgate.conditional import (
    ConditionalWritesMixin,
    if_match_check,
    if_match_tags,
    lock_row,
    representation_tag,
)
from tollgate.roles import may
from tollgate.schema import ETAG
from tollgate.ui.errors import call_service
from tollgate.ui.ids import record_id
from tollgate.ui.tables import ignoring_case


@extend_schema_view(
    create=extend_schema(request=serializers.UseCaseWriteSerializer, responses=serializers.UseCaseSerializer),
    partial_update=extend_schema(request=serializers.UseCaseWriteSerializer, responses=serializers.UseCaseSerializer),
    update=extend_schema(request=serializers.UseCaseWriteSerializer, responses=serializers.UseCaseSerializer),
)
class UseCaseViewSet(DeclaredBodyMixin, ConditionalWritesMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                     viewsets.GenericViewSet):
    """The use-case catalogue with initiative count and monthly spend ("spend by use case"); administrators add
    (POST) and edit (PATCH) use cases. Looked up by code; deactivate (is_active=false) instead of deleting. An ETag
    on each use case and If-Match on its edits (tollgate.conditional)."""

    serializer_class = serializers.UseCaseSerializer
    queryset = UseCase.objects.all()  # for the schema's path parameter type only; requests read get_queryset()
    lookup_field = "code"
    filterset_class = UseCaseFilterSet
    ordering_fields = ["name", "code", "initiative_count", "monthly_spend"]
    ordering_ignoring_case = ["name"]
    permission_required = {"list": "governance.view_usecase", "retrieve": "governance.view_usecase",
                           "create": "governance.add_usecase", "partial_update": "governance.change_usecase",
                           "update": "governance.change_usecase"}

    def get_queryset(self):
        return sprawl_selectors.use_cases_with_figures().order_by(*ignoring_case("name"))

    def create(self, request: Request) -> Response:
        body = serializers.UseCaseWriteSerializer(data=request.data, context=self.get_serializer_context())
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        use_case = call_service(use_cases.use_case_create, actor=request.user, code=data.pop("code", ""),
                                **data)
        return Response(serializers.UseCaseSerializer(self.get_queryset().get(pk=use_case.pk)).data, status=201)

    def partial_update(self, request: Request, code: str) -> Response:
        use_case = self.get_object()
        body = serializers.UseCaseWriteSerializer(use_case, data=request.data, partial=True,
                                                  context=self.get_serializer_context())
        body.is_valid(raise_exception=True)
        data = {k: v for k, v in body.validated_data.items() if k != "code"}
        call_service(use_cases.use_case_update, actor=request.user, use_case=use_case, **data)
        return Response(serializers.UseCaseSerializer(self.get_queryset().get(pk=use_case.pk)).data)

    update = partial_update


class SprawlClusterViewSet(DeclaredBodyMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                           viewsets.GenericViewSet):
    """Sprawl clusters (?status=open|confirmed|dismissed, default any); independent reviewers and administrators
    confirm, dismiss (reason required) or remove a member (reason required)."""

    serializer_class = serializers.SprawlClusterSerializer
    filterset_class = SprawlClusterFilterSet
    ordering_fields = ["estimated_saving", "monthly_spend", "score", "first_seen_at", "last_seen_at", "decided_at",
                       "status"]
    permission_required = {"list": "governance.view_sprawlcluster", "retrieve": "governance.view_sprawlcluster",
                           "confirm": "governance.decide_sprawlcluster", "dismiss": "governance.decide_sprawlcluster",
                           "remove_member": "governance.decide_sprawlcluster",
                           "track_record": "governance.view_sprawlcluster"}

    def get_queryset(self):
        return sprawl_selectors.sprawl_clusters_with_removed().select_related("decided_by")

    def _cluster_data(self, pk: int) -> dict:
        return serializers.SprawlClusterSerializer(self.get_queryset().get(pk=pk)).data

    def _decide(self, request: Request, service) -> Response:
        cluster = self.get_object()
        body = serializers.SprawlDecisionSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        call_service(service, actor=request.user, cluster=cluster, reason=body.validated_data["reason"])
        return Response(self._cluster_data(cluster.pk))

    @extend_schema(responses=serializers.TrackRecordSerializer, filters=False)
    @action(detail=False, methods=["get"], url_path="track-record", filterset_class=None, pagination_class=None)
    def track_record(self, request: Request) -> Response:
        """How often reviewers found the detector right here: per confidence, the decided clusters and the share of
        their proposed pairs confirmed; and the verdicts on possible-duplicate pairs."""
        records, verdicts = sprawl_selectors.sprawl_track_record()
        return Response(serializers.TrackRecordSerializer(
            {"clusters": records, "pair_verdicts": verdicts}).data)

    @extend_schema(request=serializers.SprawlDecisionSerializer, responses=serializers.SprawlClusterSerializer)
    @action(detail=True, methods=["post"])
    @reads_body(serializer=True)
    def confirm(self, request: Request, pk: int) -> Response:
        return self._decide(request, clusters.sprawl_cluster_confirm)

    @extend_schema(request=serializers.SprawlDecisionSerializer, responses=serializers.SprawlClusterSerializer)
    @action(detail=True, methods=["post"])
    @reads_body(serializer=True)
    def dismiss(self, request: Request, pk: int) -> Response:
        return self._decide(request, clusters.sprawl_cluster_dismiss)

    @extend_schema(request=serializers.SprawlMemberRemoveSerializer, responses=serializers.SprawlClusterSerializer)
    @action(detail=True, methods=["post"], url_path="remove-member")
    @reads_body(serializer=True)
    def remove_member(self, request: Request, pk: int) -> Response:
        cluster = self.get_object()
        body = serializers.SprawlMemberRemoveSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        initiative = Initiative.objects.filter(pk=body.validated_data["initiative"]).first()
        if initiative is None:
            raise ValidationError({"initiative": [f"No initiative with id {body.validated_data['initiative']}."]})
        call_service(clusters.sprawl_member_remove, actor=request.user, cluster=cluster,
                     initiative=initiative, reason=body.validated_data["reason"])
        return Response(self._cluster_data(cluster.pk))


# The run is queued, not done: 202 with the run to poll (the schema said 201).
@extend_schema_view(create=extend_schema(request=None, responses={202: serializers.SprawlRunSerializer}))
class SprawlRunViewSet(DeclaredBodyMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Sprawl recomputations; POST (reviewers and administrators) queues one, or returns the one already queued."""

    serializer_class = serializers.SprawlRunSerializer
    permission_required = {"list": "governance.view_sprawlrun", "retrieve": "governance.view_sprawlrun",
                           "create": "governance.recompute_sprawl"}

    def get_queryset(self):
        return SprawlRun.objects.order_by("-created_at", "-id")

    @reads_body()  # a run reads the whole portfolio: nothing to choose
    def create(self, request: Request) -> Response:
        run = call_service(runs.sprawl_run_submit, actor=request.user, trigger=SprawlRunTrigger.API)
        return Response(serializers.SprawlRunSerializer(run).data, status=202)


# Like a recomputation, a check is queued, not done: 202 with the check to poll.
@extend_schema_view(create=extend_schema(request={"multipart/form-data": serializers.SprawlLabelCheckWriteSerializer},
                                         responses={202: serializers.SprawlLabelCheckSerializer}))
class SprawlLabelCheckViewSet(DeclaredBodyMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                              viewsets.GenericViewSet):
    """Measurements of the detector against a company's own labelled duplicates. CoE reviewers and administrators
    POST a labels CSV (multipart `file`, with `top`, `possible`, `undecided`, `listed_only`): 202 with the queued
    check, or 400 with every problem of the file named by row and column, and nothing stored. Poll the check until
    it succeeds; its `result` is what `manage.py sprawl_quality --json` prints. Reviewers, executives and
    administrators read them."""

    serializer_class = serializers.SprawlLabelCheckSerializer
    parser_classes = [MultiPartParser, FormParser, JSONParser]  # JSON carries no file: a clear 400, not a 415
    permission_required = {"list": "governance.view_sprawllabelcheck", "retrieve": "governance.view_sprawllabelcheck",
                           "create": "governance.check_sprawl"}

    def get_queryset(self):
        return SprawlLabelCheck.objects.order_by("-created_at", "-id")

    def create(self, request: Request) -> Response:
        body = serializers.SprawlLabelCheckWriteSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        check = call_service(label_checks.sprawl_label_check_submit, actor=request.user,
                             filename=data["file"].name or "labels.csv", content=data["file"].read(), top=data["top"],
                             possible=data["possible"], undecided=data["undecided"],
                             listed_only=data["listed_only"])
        check.refresh_from_db()  # an eager worker (no broker) has finished it already
        return Response(serializers.SprawlLabelCheckSerializer(check).data, status=202)


@extend_schema_view(
    create=extend_schema(request=serializers.DuplicatePairDecisionWriteSerializer,
                         responses={201: serializers.DuplicatePairDecisionSerializer,
                                    200: serializers.DuplicatePairDecisionSerializer}),
    destroy=extend_schema(responses={204: None}),
)
class DuplicatePairDecisionViewSet(DeclaredBodyMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                                   viewsets.GenericViewSet):
    """Verdicts on possible-duplicate pairs (?initiative=<id>, ?verdict=, ?since=): everyone with a role reads them;
    CoE reviewers and administrators acting for neither initiative POST one ("duplicate" or "not_duplicate" with a
    reason; 201 new, 200 replacing the pair's earlier verdict) and DELETE one (undo). The next recomputation keeps
    "duplicate" pairs together and "not_duplicate" pairs apart."""

    serializer_class = serializers.DuplicatePairDecisionSerializer
    queryset = DuplicatePairDecision.objects.all()  # for the schema's path parameter type only
    filterset_class = DuplicatePairDecisionFilterSet
    ordering_fields = ["decided_at"]
    permission_required = {"list": "governance.view_duplicatepairdecision",
                           "retrieve": "governance.view_duplicatepairdecision",
                           "create": "governance.decide_duplicatepair", "destroy": "governance.decide_duplicatepair"}

    def get_queryset(self):
        return sprawl_selectors.duplicate_pair_decision_list()

    def create(self, request: Request) -> Response:
        body = serializers.DuplicatePairDecisionWriteSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        # An id past the id columns' range (tollgate.ui.ids) is an id no initiative has; SQLite cannot be sent it.
        found = Initiative.objects.in_bulk([pk for pk in (record_id(data["initiative"]), record_id(data["other"]))
                                            if pk is not None])
        missing = {key: [f"No initiative with id {data[key]}."] for key in ("initiative", "other")
                   if data[key] not in found}
        if missing:
            raise ValidationError(missing)
        existed = DuplicatePairDecision.objects.filter(
            initiative_a_id=min(data["initiative"], data["other"]),
            initiative_b_id=max(data["initiative"], data["other"])).exists()
        decision = call_service(pair_decisions.duplicate_pair_decide, actor=request.user,
                                initiative=found[data["initiative"]], other=found[data["other"]],
                                verdict=data["verdict"], reason=data["reason"])
        return Response(serializers.DuplicatePairDecisionSerializer(self.get_queryset().get(pk=decision.pk)).data,
                        status=200 if existed else 201)

    def destroy(self, request: Request, pk: int) -> Response:
        try:
            decision = self.get_object()
        except Http404:  # undone meanwhile: say so, not "No DuplicatePairDecision matches the given query."
            raise NotFound("This verdict was already undone, or never existed.") from None
        call_service(pair_decisions.duplicate_pair_undo, actor=request.user, decision=decision)
        return Response(status=204)


class PossibleDuplicatesView(DeclaredBodyMixin, APIView):
    """GET: the initiative's top 5 possible duplicates, best first, with the reasons; those a reviewer decided
    "duplicate" come first, those decided "not a duplicate" are left out."""

    permission_required = "portfolio.view_initiative"

    @extend_schema(responses=serializers.PossibleDuplicateSerializer(many=True))
    def get(self, request: Request, pk: int) -> Response:
        initiative = get_object_or_404(Initiative, pk=pk)
        self.check_object_permissions(request, initiative)
        duplicates = sprawl_selectors.initiative_possible_duplicates(initiative)
        return Response(serializers.PossibleDuplicateSerializer(duplicates, many=True).data)


class InitiativeUseCasesView(DeclaredBodyMixin, APIView):
    """GET: the initiative's use cases (confirmed first, with confidence). PUT {use_cases: [code, ...]}: confirm
    them (whoever may edit the initiative, and CoE reviewers); an empty list hands it back to suggestions.

    The list answers with an ETag; a PUT with If-Match is refused (412) when the list changed since it was read
    (someone else set it, or a recomputation suggested others), as the records' writes are (tollgate.conditional).
    """

    # Who may set them depends on the initiative (its editors), so PUT is checked on the object below.
    permission_required = "portfolio.view_initiative"
    honours_if_match = True  # tollgate.schema documents the header and the 412

    def get_initiative(self, request: Request, pk: int) -> Initiative:
        initiative = get_object_or_404(Initiative, pk=pk)
        self.check_object_permissions(request, initiative)
        return initiative

    def links(self, initiative: Initiative) -> Any:
        return serializers.InitiativeUseCaseSerializer(sprawl_selectors.initiative_use_cases(initiative),
                                                       many=True).data

    def tagged(self, request: Request, data: Any) -> Response:
        response = Response(data)
        response["ETag"] = representation_tag(data, request)
        return response

    @extend_schema(responses=serializers.InitiativeUseCaseSerializer(many=True), parameters=[ETAG])
    def get(self, request: Request, pk: int) -> Response:
        return self.tagged(request, self.links(self.get_initiative(request, pk)))

    @extend_schema(request=serializers.InitiativeUseCasesWriteSerializer,
                   responses=serializers.InitiativeUseCaseSerializer(many=True), parameters=[ETAG])
    @reads_body(serializer=True)
    def put(self, request: Request, pk: int) -> Response:
        initiative = self.get_initiative(request, pk)
        if not may(request.user, "governance.set_initiative_use_cases", initiative):
            raise PermissionDenied("Only those who may edit the initiative, and CoE reviewers, set its use cases.")
        body = serializers.InitiativeUseCasesWriteSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        if if_match_tags(request) is not None:
            lock_row(Initiative, pk=initiative.pk)  # the service sets the list under the same lock
            if_match_check(request, lambda: representation_tag(self.links(initiative), request),
                           "initiative's use-case list")
        call_service(use_cases.initiative_use_cases_set, actor=request.user, initiative=initiative,
                     use_case_codes=body.validated_data["use_cases"])
        return self.tagged(request, self.links(initiative))
