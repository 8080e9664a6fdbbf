"""Signals API: the list (filtered like the page), one signal, and its acknowledge / dismiss / resolve actions;
signal runs ("recompute now"). Permissions come from tollgate.roles through RolePermission; the services check them
again on the signal itself."""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch, QuerySet
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from governance.choices import SignalRunTrigger
from governance.models import Signal, SignalRun
from governance.signals import selectors, services
from governance.signals.api import serializers
from governance.signals.filtersets import SignalFilterSet
from portfolio.models import Initiative
from tollgate.api_body import DeclaredBodyMixin, reads_body
from tollgate.types import request_actor
from tollgate.ui.errors import call_service


class SignalViewSet(DeclaredBodyMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Signals (?type=, ?severity=, ?status=open|acknowledged|resolved|dismissed|live, default live as on the page,
    `?status=` (empty) for every status; ?department=, ?initiative= external id, ?q=); owners see those of their
    initiatives, the other roles all. Owners acknowledge their own;
    reviewers and administrators who do not own it acknowledge, dismiss (reason required) or resolve any."""

    serializer_class = serializers.SignalSerializer
    filterset_class = SignalFilterSet
    ordering_fields = ["first_seen_at", "evidence_changed_at", "monthly_saving", "period", "type", "status", "subject"]
    ordering_aliases = {"period": selectors.PERIOD_ORDER}  # chronologically: 2026-12 after 2026-Q3, not before
    permission_required = {"list": "governance.view_signal", "retrieve": "governance.view_signal",
                           "acknowledge": "governance.acknowledge_signal", "dismiss": "governance.dismiss_signal",
                           "resolve": "governance.resolve_signal"}

    def get_queryset(self) -> QuerySet[Signal]:
        if self.action == "list":
            return selectors.signal_list(user=self.request.user)
        # One signal: found whoever asks, then judged by the object permission (403, as on the page).
        return Signal.objects.select_related("acknowledged_by", "resolved_by", "dismissed_by").prefetch_related(
            Prefetch("initiatives", queryset=Initiative.objects.order_by("external_id")))

    def filter_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        """Filters are the list's: one signal, or an action on it, is found whatever its status (the list's default
        of the live ones would make a dismissed signal a 404)."""
        return super().filter_queryset(queryset) if self.action == "list" else queryset

    def _signal_data(self, pk: int) -> dict:
        return serializers.SignalSerializer(self.get_queryset().get(pk=pk)).data

    @extend_schema(request=serializers.SignalAcknowledgeSerializer, responses=serializers.SignalSerializer)
    @action(detail=True, methods=["post"])
    @reads_body(serializer=True)
    def acknowledge(self, request: Request, pk: int) -> Response:
        signal = self.get_object()
        body = serializers.SignalAcknowledgeSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        call_service(services.signal_acknowledge, actor=request_actor(request), signal=signal,
                     note=body.validated_data["note"])
        return Response(self._signal_data(signal.pk))

    @extend_schema(request=serializers.SignalDismissSerializer, responses=serializers.SignalSerializer)
    @action(detail=True, methods=["post"])
    @reads_body(serializer=True)
    def dismiss(self, request: Request, pk: int) -> Response:
        signal = self.get_object()
        body = serializers.SignalDismissSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        call_service(services.signal_dismiss, actor=request_actor(request), signal=signal,
                     reason=body.validated_data["reason"])
        return Response(self._signal_data(signal.pk))

    @extend_schema(request=serializers.SignalResolveSerializer, responses=serializers.SignalSerializer)
    @action(detail=True, methods=["post"])
    @reads_body(serializer=True)
    def resolve(self, request: Request, pk: int) -> Response:
        signal = self.get_object()
        body = serializers.SignalResolveSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        call_service(services.signal_resolve, actor=request_actor(request), signal=signal,
                     note=body.validated_data["note"])
        return Response(self._signal_data(signal.pk))


# The run is queued, not done: 202 with the run to poll (the schema said 201).
@extend_schema_view(create=extend_schema(request=None, responses={202: serializers.SignalRunSerializer}))
class SignalRunViewSet(DeclaredBodyMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Signal computations; POST (reviewers and administrators) queues one, or returns the one already waiting."""

    serializer_class = serializers.SignalRunSerializer
    permission_required = {"list": "governance.view_signalrun", "retrieve": "governance.view_signalrun",
                           "create": "governance.recompute_signals"}

    def get_queryset(self) -> QuerySet[SignalRun]:
        return SignalRun.objects.order_by("-created_at", "-id")

    @reads_body()  # a run recomputes every rule: nothing to choose
    def create(self, request: Request) -> Response:
        run = call_service(services.signal_run_submit, actor=request_actor(request), trigger=SignalRunTrigger.API)
        return Response(serializers.SignalRunSerializer(run).data, status=202)
