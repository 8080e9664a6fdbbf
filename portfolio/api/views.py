"""Portfolio API viewsets: they declare queryset, serializer and filters, and hand writes to portfolio.services.

Permissions come from tollgate.permissions.RolePermission (the settings default), which reads tollgate.roles.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import cached_property
from typing import Any, cast

from auditlog.context import set_actor
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import ProtectedError, QuerySet, RestrictedError
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import APIException, PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response

from portfolio import filtersets, selectors, services
from portfolio.api import serializers
from portfolio.costs.selectors import CostPeriods, cost_periods
from portfolio.models import KPI, AIModel, BusinessCase, CostCenter, Department, Initiative, LicencePool, Vendor
from portfolio.services.licences import POOL_FIELDS
from portfolio.services.reference import AI_MODEL_FIELDS
from tollgate.api_body import DeclaredBodyMixin, reads_body
from tollgate.conditional import ConditionalWritesMixin
from tollgate.roles import Role, may, refusal
from tollgate.types import Actor
from tollgate.ui.errors import call_service
from tollgate.ui.tables import ignoring_case


class Conflict(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "This object is still referenced and cannot be deleted."
    default_code = "protected"


class PortfolioViewSet(DeclaredBodyMixin, ConditionalWritesMixin, viewsets.ModelViewSet):
    """Plain model writes for data without a service (reference data), audited under the acting user; an ETag on
    each record and If-Match on its writes (tollgate.conditional).

    auditlog's middleware only knows session users; token-authenticated calls set the actor here.
    """

    @contextmanager
    def acting(self) -> Iterator[None]:
        with set_actor(self.request.user):
            yield

    def perform_create(self, serializer) -> None:
        with self.acting():
            serializer.save()

    def perform_update(self, serializer) -> None:
        with self.acting():
            serializer.save()

    def perform_destroy(self, instance: Any) -> None:  # a row of the subclass's queryset
        try:
            with self.acting():
                instance.delete()
        except (ProtectedError, RestrictedError) as exc:
            raise Conflict(f"{instance} is still in use and cannot be deleted.") from exc


class ReferenceDeleteMixin(PortfolioViewSet):
    """A vendor, model, department or cost center is deleted through reference_delete: audited under its own
    event, refused (409, naming what uses it) while anything does."""

    def perform_destroy(self, instance: Any) -> None:
        try:
            services.reference_delete(actor=cast(Actor, self.request.user), record=instance)
        except DjangoValidationError as exc:
            raise Conflict(" ".join(exc.messages)) from exc
        except DjangoPermissionDenied as exc:
            raise PermissionDenied(str(exc) or None) from exc


class InitiativeChildCreateMixin(PortfolioViewSet):
    """Create of a row that hangs on an initiative (business case, KPI) is decided on that initiative.

    RolePermission's collection check (no object) only says the role may add such rows somewhere;
    DRF runs no object check on create, so the target initiative is checked here.
    """

    def check_create_on(self, perm: str, initiative: Initiative) -> None:
        if not may(self.request.user, perm, initiative):
            raise PermissionDenied(f"You may not add to {initiative}.")


MONTH_PARAMETER = r"^\d{4}-(0[1-9]|1[0-2])$"


class InitiativeViewSet(PortfolioViewSet):
    """Initiatives: everyone with a role reads the portfolio; owners register and edit their own. Each carries its
    actual cost of the last complete month and quarter (sortable and filterable like the portfolio page)."""

    queryset = (
        Initiative.objects.select_related("department", "cost_center", "owner", "business_case")
        .prefetch_related("vendors", "ai_models", "delegates")
        .order_by(*ignoring_case("name"))  # by name whatever its case, as the portfolio page lists them
    )
    serializer_class = serializers.InitiativeSerializer
    filterset_class = filtersets.InitiativeFilterSet
    search_fields = ["name", "description", "external_id"]
    ordering_fields = ["name", "external_id", "stage", "category", "start_date", "declared_monthly_cost", "created_at",
                       "updated_at", "department__name", "cost_last_month", "cost_last_quarter", "cost_variance_pct"]
    ordering_ignoring_case = ["name", "department__name", "owner__last_name", "owner__first_name", "owner__email"]
    # The names the answer shows, sorted by what they show (the owner by name, as the portfolio page sorts them).
    ordering_aliases = {
        "department_name": ("department__name",), "cost_center_code": ("cost_center__code",),
        "owner": ("owner__last_name", "owner__first_name"), "owner_email": ("owner__email",),
        "cost_vs_business_case_pct": ("cost_variance_pct",),
    }

    @cached_property
    def cost_periods(self) -> CostPeriods:
        return cost_periods()

    def get_queryset(self) -> QuerySet[Initiative]:
        if getattr(self, "swagger_fake_view", False):  # the schema generator reads the model, not the figures
            return super().get_queryset()
        return super().get_queryset().annotate(**selectors.initiative_cost_annotations(self.cost_periods))

    def get_serializer_context(self) -> dict[str, Any]:
        return {**super().get_serializer_context(), "cost_periods": self.cost_periods}

    def get_serializer_class(self):
        if self.action == "create":
            return serializers.InitiativeCreateSerializer
        return serializers.InitiativeSerializer

    def _with_costs(self, initiative: Initiative) -> Initiative:
        """The written initiative read back with its cost figures, as a GET answers it."""
        return self.get_queryset().get(pk=initiative.pk)

    def perform_create(self, serializer) -> None:
        data = dict(serializer.validated_data)
        data.pop("start_date_reason", None)  # a new initiative's start date is its owner's to plan
        data.setdefault("owner", self.request.user)
        serializer.instance = self._with_costs(
            call_service(services.initiative_create, actor=self.request.user, **data))

    def perform_update(self, serializer) -> None:
        serializer.instance = self._with_costs(call_service(
            services.initiative_update, actor=self.request.user, initiative=serializer.instance,
            **serializer.validated_data,
        ))

    def perform_destroy(self, instance: Initiative) -> None:
        call_service(services.initiative_delete, actor=self.request.user, initiative=instance)

    @extend_schema(
        summary="An initiative's total cost of ownership, month by month",
        description=(
            "Each month's TCO by category, each part actual (cost records, value reports) or estimated (the business "
            "case, or the declared monthly cost without one), with the approved business case's monthly TCO (the "
            "business case as it stands when never approved) and the declared monthly cost beside it; amounts are "
            "numbers in `currency`. Each month says what its figures are worth in `data`: \"complete\" (final), "
            "\"partial\" (the month in progress, or one a cost source still owes: more cost may come), \"unread\" "
            "(no cost source read it: total, actual and estimated are null, since its cost is unknown, not zero) or "
            "\"not_started\" (before the initiative's start date: $0), with `data_note` saying why. The totals add "
            "up the months with figures. Without `from` and `to`: the last twelve months with data, ending at the "
            "latest month with data, which may be the month in progress (marked \"partial\"). A missing bound is "
            "twelve months from the other (not past the current month); at most 120 months. A month that has not "
            "begun is refused."
        ),
        parameters=[
            OpenApiParameter("from", OpenApiTypes.STR, OpenApiParameter.QUERY, required=False, pattern=MONTH_PARAMETER,
                             description="First month, YYYY-MM (e.g. 2026-01); not after the current month."),
            OpenApiParameter("to", OpenApiTypes.STR, OpenApiParameter.QUERY, required=False, pattern=MONTH_PARAMETER,
                             description="Last month, YYYY-MM (e.g. 2026-09); not before `from`, not after the "
                                         "current month."),
        ],
        responses={
            200: serializers.InitiativeCostsSerializer,
            400: OpenApiResponse(
                OpenApiTypes.OBJECT, description=(
                    "A parameter is not a month, names a month that has not begun, or `from` is after `to`."),
                examples=[OpenApiExample("Not a month", value={
                    "from": ["'from' must be a month as YYYY-MM, e.g. 2026-01; got '2026-13'."]}),
                          OpenApiExample("Not begun", value={
                    "from": ["'from' (2027-01) is after the current month (2026-12): a month that has not begun has "
                             "no cost yet."]})],
            ),
        },
    )
    @action(detail=True, methods=["get"], url_path="costs")
    def costs(self, request: Request, pk: str | None = None) -> Response:
        initiative = self.get_object()
        query = serializers.CostRangeSerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        report = selectors.initiative_costs(initiative, start=query.validated_data.get("from"),
                                            end=query.validated_data.get("to"))
        return Response(serializers.InitiativeCostsSerializer(report).data)


def initiative_tag(request: Request, pk: int) -> str:
    """The ETag a GET of /api/initiatives/<pk>/ answers with: for a write elsewhere that acts on the initiative (its
    lifecycle transitions) to honour If-Match."""
    view = InitiativeViewSet(request=request, format_kwarg=None, action="retrieve", kwargs={"pk": pk})
    return view.record_tag(view.get_queryset().get(pk=pk))


@extend_schema_view(update=extend_schema(request=serializers.BusinessCaseUpdateSerializer),
                    partial_update=extend_schema(request=serializers.BusinessCaseUpdateSerializer))
class BusinessCaseViewSet(InitiativeChildCreateMixin, PortfolioViewSet):
    """Business cases; object rules follow the initiative (tollgate.roles.initiative_of)."""

    queryset = BusinessCase.objects.select_related("initiative").order_by(*ignoring_case("initiative__name"))
    serializer_class = serializers.BusinessCaseSerializer
    filterset_class = filtersets.BusinessCaseFilterSet
    search_fields = ["initiative__name", "problem", "outcome_unit"]
    ordering_fields = ["initiative__name", "expected_monthly_volume", "expected_monthly_value", "created_at"]
    ordering_ignoring_case = ["initiative__name"]

    def perform_create(self, serializer) -> None:
        fields = dict(serializer.validated_data)
        initiative = fields.pop("initiative")
        self.check_create_on("portfolio.add_businesscase", initiative)
        serializer.instance = call_service(
            services.business_case_save, actor=self.request.user, initiative=initiative, **fields
        )

    def perform_update(self, serializer) -> None:
        fields = dict(serializer.validated_data)
        fields.pop("initiative", None)
        serializer.instance = call_service(
            services.business_case_save, actor=self.request.user, initiative=serializer.instance.initiative, **fields
        )

    def perform_destroy(self, instance: BusinessCase) -> None:
        call_service(services.business_case_delete, actor=self.request.user, case=instance)


@extend_schema_view(update=extend_schema(request=serializers.KPIUpdateSerializer),
                    partial_update=extend_schema(request=serializers.KPIUpdateSerializer))
class KPIViewSet(InitiativeChildCreateMixin, PortfolioViewSet):
    """KPIs, written one at a time through kpi_save / kpi_delete (kpis_replace: audited like an edit of the
    initiative's KPI list, with its locks and versions)."""

    queryset = KPI.objects.select_related("initiative").order_by("initiative_id", "pk")
    serializer_class = serializers.KPISerializer
    filterset_class = filtersets.KPIFilterSet
    search_fields = ["name", "unit", "initiative__name"]
    ordering_fields = ["name", "initiative__name", "created_at"]
    ordering_ignoring_case = ["name", "initiative__name"]

    def perform_create(self, serializer) -> None:
        fields = dict(serializer.validated_data)
        initiative = fields.pop("initiative")
        self.check_create_on("portfolio.add_kpi", initiative)
        serializer.instance = call_service(services.kpi_save, actor=self.request.user, initiative=initiative, **fields)

    def perform_update(self, serializer) -> None:
        kpi = serializer.instance
        fields = {k: v for k, v in serializer.validated_data.items() if k != "initiative"}
        serializer.instance = call_service(services.kpi_save, actor=self.request.user, initiative=kpi.initiative,
                                           kpi=kpi, **fields)

    def perform_destroy(self, instance: KPI) -> None:
        call_service(services.kpi_delete, actor=self.request.user, kpi=instance)


class DepartmentViewSet(ReferenceDeleteMixin, PortfolioViewSet):
    """Departments, written through department_save like the Departments page."""

    queryset = Department.objects.select_related("head").order_by(*ignoring_case("name"))
    serializer_class = serializers.DepartmentSerializer
    filterset_class = filtersets.DepartmentFilterSet
    search_fields = ["name", "code"]
    ordering_fields = ["name", "code"]
    ordering_ignoring_case = ["name"]

    def perform_create(self, serializer) -> None:
        serializer.instance = call_service(services.department_save, actor=self.request.user,
                                           **serializer.validated_data)

    def perform_update(self, serializer) -> None:
        department = serializer.instance  # a PATCH names some fields; the service takes them all
        values = {name: serializer.validated_data.get(name, getattr(department, name))
                  for name in ("name", "code", "head")}
        serializer.instance = call_service(services.department_save, actor=self.request.user,
                                           department=department, **values)


class CostCenterViewSet(ReferenceDeleteMixin, PortfolioViewSet):
    """Cost centers, written through cost_center_save like the Cost centers page."""

    queryset = CostCenter.objects.select_related("department", "budget_owner").order_by("code")
    serializer_class = serializers.CostCenterSerializer
    filterset_class = filtersets.CostCenterFilterSet
    search_fields = ["code", "name", "department__name"]
    ordering_fields = ["code", "name", "department__name"]
    ordering_ignoring_case = ["name", "department__name"]

    def perform_create(self, serializer) -> None:
        fields = {k: v for k, v in serializer.validated_data.items() if k != "move_initiatives"}  # none to move yet
        serializer.instance = call_service(services.cost_center_save, actor=self.request.user, **fields)

    def perform_update(self, serializer) -> None:
        cost_center = serializer.instance
        values = {name: serializer.validated_data.get(name, getattr(cost_center, name))
                  for name in ("code", "name", "department", "budget_owner")}
        serializer.instance = call_service(services.cost_center_save, actor=self.request.user,
                                           cost_center=cost_center,
                                           move_initiatives=serializer.validated_data.get("move_initiatives", False),
                                           **values)


class VendorViewSet(ReferenceDeleteMixin, PortfolioViewSet):
    """Vendors, written through vendor_save like the Vendors page."""

    queryset = Vendor.objects.order_by(*ignoring_case("name"))
    serializer_class = serializers.VendorSerializer
    filterset_class = filtersets.VendorFilterSet
    search_fields = ["name", "website"]
    ordering_fields = ["name"]
    ordering_ignoring_case = ["name"]

    def perform_create(self, serializer) -> None:
        serializer.instance = call_service(services.vendor_save, actor=self.request.user,
                                           **serializer.validated_data)

    def perform_update(self, serializer) -> None:
        vendor = serializer.instance  # a PATCH names some fields; the service takes them all
        values = {name: serializer.validated_data.get(name, getattr(vendor, name)) for name in ("name", "website")}
        serializer.instance = call_service(services.vendor_save, actor=self.request.user, vendor=vendor, **values)


class AIModelViewSet(ReferenceDeleteMixin, PortfolioViewSet):
    """The model catalogue, written through ai_model_save like the Models page (a new substitute is audited under
    its own event)."""

    queryset = AIModel.objects.select_related("provider").order_by(*ignoring_case("provider__name", "name"))
    serializer_class = serializers.AIModelSerializer
    filterset_class = filtersets.AIModelFilterSet
    search_fields = ["name", "provider__name"]
    ordering_fields = ["name", "provider__name", "tier", "input_price_per_mtok", "output_price_per_mtok",
                       "context_window"]
    ordering_ignoring_case = ["name", "provider__name"]

    def perform_create(self, serializer) -> None:
        serializer.instance = call_service(services.ai_model_save, actor=self.request.user,
                                           **serializer.validated_data)

    def perform_update(self, serializer) -> None:
        model = serializer.instance  # a PATCH names some fields; the service takes them all
        values = {name: serializer.validated_data.get(name, getattr(model, name)) for name in AI_MODEL_FIELDS}
        serializer.instance = call_service(services.ai_model_save, actor=self.request.user, model=model, **values)


class LicencePoolViewSet(PortfolioViewSet):
    """Licence pools: administrators buy them; the owner of the initiative a pool serves may adjust it."""

    queryset = (LicencePool.objects.select_related("vendor", "initiative").prefetch_related("terms")
                .order_by(*ignoring_case("tool")))
    serializer_class = serializers.LicencePoolSerializer
    filterset_class = filtersets.LicencePoolFilterSet
    search_fields = ["tool", "vendor__name", "initiative__name"]
    ordering_fields = ["tool", "seats_purchased", "price_per_seat_month", "vendor__name"]
    ordering_ignoring_case = ["tool", "vendor__name"]

    def perform_create(self, serializer) -> None:
        serializer.instance = call_service(services.licence_pool_save, actor=self.request.user,
                                           **serializer.validated_data)

    def perform_update(self, serializer) -> None:
        # A PATCH names some fields; the service takes the whole pool (moving it checks the destination too).
        pool = serializer.instance
        values = {name: serializer.validated_data.get(name, getattr(pool, name)) for name in POOL_FIELDS}
        serializer.instance = call_service(services.licence_pool_save, actor=self.request.user, pool=pool,
                                           effective_from=serializer.validated_data.get("effective_from"), **values)

    def perform_destroy(self, instance: LicencePool) -> None:
        call_service(services.licence_pool_delete, actor=self.request.user, pool=instance)


class PersonViewSet(DeclaredBodyMixin, ConditionalWritesMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                    viewsets.GenericViewSet):
    """People, for administrators and their provisioning scripts (someone joins, changes role, leaves): the People
    page's list and writes, through the same services and with the same rules (nobody locks themselves out, nobody
    is their own delegate, someone who left is not newly named one); each change in the audit trail, source "api".
    An ETag on each person and If-Match on the writes to them (tollgate.conditional), as for the other records. The
    tag covers who they are and what an administrator sets (username, e-mail, names, roles, department, title,
    delegates, active), not what changes when they merely sign in, set their password or are invited, nor the
    initiatives they own or their department's name (records of their own)."""

    permission_required = "portfolio.manage_people"
    record_name = "person"
    untagged_fields = frozenset({"last_login", "sign_in", "has_password", "invited_at", "initiatives_owned",
                                 "department_name"})
    serializer_class = serializers.PersonSerializer
    filterset_class = filtersets.PersonFilterSet
    ordering_fields = ["last_name", "first_name", "username", "email", "last_login", "initiatives_owned"]
    ordering_ignoring_case = ["last_name", "first_name", "username", "email"]
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self) -> QuerySet:
        return selectors.people_list(user=self.request.user)

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        # The permission is not decided per person: a change is refused (403) before anyone is looked up, as a read.
        if not may(request.user, self.permission_required):
            self.permission_denied(request, message=refusal(request.user, self.permission_required))

    def get_serializer_class(self):
        return {"create": serializers.PersonCreateSerializer,
                "partial_update": serializers.PersonUpdateSerializer}.get(self.action, serializers.PersonSerializer)

    def _read_back(self, person: Any) -> Response:
        return Response(serializers.PersonSerializer(self.get_queryset().get(pk=person.pk)).data)

    @extend_schema(request=serializers.PersonCreateSerializer, responses={201: serializers.PersonSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        person = call_service(services.person_create, actor=request.user, email=data["email"],
                              first_name=data["first_name"], last_name=data["last_name"],
                              roles={Role(value) for value in data["roles"]}, department=data["department"],
                              title=data["title"], invite=data["invite"], source="api")
        response = self._read_back(person)
        response.status_code = status.HTTP_201_CREATED
        return response

    @extend_schema(request=serializers.PersonUpdateSerializer, responses={200: serializers.PersonSerializer})
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        person = self.get_object()
        serializer = self.get_serializer(person, data=request.data, partial=True)  # the person: what is sent back
        serializer.is_valid(raise_exception=True)
        changes = dict(serializer.validated_data)
        if "roles" in changes:
            changes["roles"] = {Role(value) for value in changes["roles"]}
        call_service(services.person_update, actor=request.user, user=person, source="api",
                     **{**selectors.person_settings(person), **changes})
        return self._read_back(person)

    @extend_schema(request=None, responses={200: OpenApiResponse(
        OpenApiTypes.OBJECT, description="The link was e-mailed.",
        examples=[OpenApiExample("Sent", value={"detail": "A link to set a password was e-mailed to ..."})])})
    @action(detail=True, methods=["post"])
    def invite(self, request: Request, pk: str | None = None) -> Response:
        """E-mail them a link to set their password: an invitation, or a new link for a forgotten one."""
        person = self.get_object()
        call_service(services.person_invite, actor=request.user, user=person)
        return Response({"detail": f"A link to set a password was e-mailed to {person.email}."})

    @extend_schema(request=serializers.HandOverSerializer, responses={200: serializers.HandedOverSerializer})
    @action(detail=True, methods=["post"], url_path="hand-over")
    @reads_body(serializer=True)
    def hand_over(self, request: Request, pk: str | None = None) -> Response:
        """Everything they own that still runs or is planned goes to another owner (someone left or changed job)."""
        person = self.get_object()
        serializer = serializers.HandOverSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        to = serializer.validated_data["to"]
        handed = call_service(services.initiatives_hand_over, actor=request.user, from_user=person, to_user=to)
        return Response({"to": to.pk, "initiatives": [initiative.external_id for initiative in handed.initiatives],
                         "no_longer_delegate": [initiative.external_id for initiative in handed.no_longer_delegate]})

    @extend_schema(request=None, responses={200: OpenApiResponse(
        OpenApiTypes.OBJECT, description="How many of their API tokens were revoked.",
        examples=[OpenApiExample("Revoked", value={"revoked": 2})])})
    @action(detail=True, methods=["post"], url_path="revoke-tokens")
    def revoke_tokens(self, request: Request, pk: str | None = None) -> Response:
        """Every API token of theirs stops working (a key that may have leaked); the account stays active."""
        person = self.get_object()
        return Response({"revoked": call_service(services.api_tokens_revoke_all, actor=request.user, user=person)})

    @extend_schema(request=None, responses={200: OpenApiResponse(
        OpenApiTypes.OBJECT, description="Who was invited (their e-mail addresses).",
        examples=[OpenApiExample("Invited", value={"invited": ["nina.novak@example.com"]})])})
    @action(detail=False, methods=["post"], url_path="invite-all")
    def invite_all(self, request: Request) -> Response:
        """Invite everyone who has no password and never signed in (after an inventory import, say), at once."""
        invited = call_service(services.people_invite_all, actor=request.user)
        return Response({"invited": [person.email for person in invited]})
