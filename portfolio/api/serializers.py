"""Shapes of the portfolio API. They validate input and render output; writes go through portfolio.services."""

from __future__ import annotations

import copy
from datetime import date
from typing import Any

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import Model
from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.fields import SkipField

from portfolio.calculations import substitute_problem
from portfolio.costs.calculations import TCO_MONTH_DATA, month_range
from portfolio.costs.connectors.base import Period
from portfolio.costs.selectors import MAX_HISTORY_MONTHS, CostPeriods
from portfolio.models import (
    KPI,
    AIModel,
    BusinessCase,
    CostCenter,
    Department,
    GpuCostBasis,
    Initiative,
    LicencePool,
    LicencePoolTerms,
    Vendor,
)
from portfolio.models.base import KPI_FIGURE_MESSAGES
from portfolio.selectors import integration_flag, sign_in_kind
from portfolio.services.initiatives import BUSINESS_CASE_FIELDS, KPI_FIELDS
from portfolio.services.people import person_create_errors
from portfolio.services.reference import (
    DEPARTMENT_CODE_HELP,
    DEPARTMENT_CODE_INVALID,
    case_duplicate_errors,
    ensure_no_case_duplicate,
)
from tollgate.api_fields import ChoiceField, IdField, ModelSerializer, Serializer
from tollgate.roles import Role, is_admin, roles_shown

User = get_user_model()


def money_out(*, null: bool = False, help_text: str | None = None) -> serializers.DecimalField:
    """A read-only dollar figure the model or a selector computes: no digit limit, since a sum or a product of
    stored amounts can have more digits than any one of them."""
    return serializers.DecimalField(max_digits=None, decimal_places=2, read_only=True, allow_null=null,
                                    help_text=help_text)


def money_number(**kwargs: Any) -> serializers.DecimalField:
    """A dollar figure given as a JSON number (the costs report), not a string."""
    return serializers.DecimalField(max_digits=None, decimal_places=2, coerce_to_string=False, read_only=True,
                                    **kwargs)


UNREAD_NULL = "null when no cost source read the month (`data` is \"unread\"): its cost is unknown, not zero."


class InitiativeSerializer(ModelSerializer):
    """An initiative with a read-only summary of what it points to, so a list needs no follow-up calls.

    Relations are written as ids (department, cost_center, owner, vendors, ai_models, delegates) and read back
    with their names beside them. The stage is read-only: it moves only through governed transitions.
    """

    url = serializers.HyperlinkedIdentityField(view_name="api:initiative-detail")
    department_name = serializers.CharField(source="department.name", read_only=True)
    cost_center_code = serializers.CharField(source="cost_center.code", read_only=True, allow_null=True)
    owner = IdField(queryset=User.objects.all(), required=False)
    owner_email = serializers.EmailField(source="owner.email", read_only=True)
    vendor_names: serializers.SlugRelatedField[Vendor] = serializers.SlugRelatedField(
        source="vendors", slug_field="name", many=True, read_only=True
    )
    ai_model_names: serializers.SlugRelatedField[AIModel] = serializers.SlugRelatedField(
        source="ai_models", slug_field="name", many=True, read_only=True
    )
    business_case = serializers.SerializerMethodField()
    start_date_reason = serializers.CharField(
        write_only=True, required=False, allow_blank=True, max_length=500,
        help_text="Why the start date changes: required to change it once the initiative is approved (administrators "
                  "and CoE reviewers only; kept in the audit trail).")
    tags = serializers.ListField(child=serializers.CharField(max_length=60), required=False)
    # Actual cost (portfolio.selectors.initiative_cost_annotations): null before any cost data.
    cost_month = serializers.SerializerMethodField(
        help_text="The last complete month with cost data (YYYY-MM): the month of cost_last_month.")
    cost_last_month = money_out(null=True, help_text="Total cost of ownership of cost_month.")
    cost_quarter = serializers.SerializerMethodField(
        help_text="The last complete quarter with cost data (e.g. 2026-Q3): the quarter of cost_last_quarter.")
    cost_last_quarter = money_out(null=True, help_text=(
        "Total cost of ownership of cost_quarter, but its months no cost source read (cost_quarter_unread_months)."))
    cost_quarter_unread_months = serializers.SerializerMethodField(help_text=(
        "The months of cost_quarter (YYYY-MM) that no cost source read: their cost is unknown, so cost_last_quarter "
        "and cost_vs_business_case_pct leave them out (as a value report's cost_unread_months); empty when every "
        "month was read."))
    cost_vs_business_case_pct = serializers.FloatField(
        source="cost_variance_pct", read_only=True, allow_null=True,
        help_text="How far cost_last_quarter is above (below, when negative) the approved business case's TCO (as it "
                  "stands when never approved) for the months of cost_quarter the initiative ran in (the declared "
                  "monthly cost without a business case), in %.")

    class Meta:
        model = Initiative
        fields = [
            "id", "url", "external_id", "name", "description", "category", "stage",
            "department", "department_name", "cost_center", "cost_center_code", "owner", "owner_email",
            "delegates", "vendors", "vendor_names", "ai_models", "ai_model_names", "business_case",
            "start_date", "start_date_reason", "tags", "declared_monthly_cost", "cost_month", "cost_last_month",
            "cost_quarter", "cost_last_quarter", "cost_quarter_unread_months", "cost_vs_business_case_pct",
            "created_at", "updated_at",
        ]
        read_only_fields = ["external_id", "stage", "created_at", "updated_at"]
        extra_kwargs = {
            "delegates": {"required": False},
            "vendors": {"required": False},
            "ai_models": {"required": False},
        }

    read_only_hints = {
        "stage": "it moves through the governed transitions, POST /api/governance/initiatives/{id}/transitions/ "
                 "with the transition",
        "external_id": "it is given when the initiative is registered and never changes",
    }

    def _periods(self) -> CostPeriods | None:
        return self.context.get("cost_periods")

    def get_cost_month(self, obj: Initiative) -> str | None:
        periods = self._periods()
        return (periods.month_label or None) if periods else None

    def get_cost_quarter(self, obj: Initiative) -> str | None:
        periods = self._periods()
        return (periods.quarter_label or None) if periods else None

    def get_cost_quarter_unread_months(self, obj: Initiative) -> list[str]:
        periods = self._periods()
        return [f"{m:%Y-%m}" for m in periods.quarter_unread] if periods else []

    def get_business_case(self, obj: Initiative) -> int | None:
        """Id of the business case, or null: the list shows at a glance which initiatives still lack one."""
        case = getattr(obj, "business_case", None)
        return case.pk if case is not None else None

    def validate_owner(self, owner):
        """Owners register and keep their own initiatives; only administrators assign someone else."""
        request = self.context.get("request")
        user = getattr(request, "user", None)
        current = self.instance.owner_id if self.instance is not None else getattr(user, "pk", None)
        if owner is not None and owner.pk != current and not (user is not None and is_admin(user)):
            raise serializers.ValidationError("Only administrators may assign an initiative to another owner.")
        return owner


class InitiativeCreateSerializer(InitiativeSerializer):
    """On registration the customer's own inventory id may be given; Tollgate generates TG-NNNNN otherwise."""

    class Meta(InitiativeSerializer.Meta):
        read_only_fields = ["stage", "created_at", "updated_at"]
        extra_kwargs = {**InitiativeSerializer.Meta.extra_kwargs, "external_id": {"required": False}}


class BusinessCaseSerializer(ModelSerializer):
    """A business case with its computed monthly TCO, oversight cost and expected cost per outcome."""

    url = serializers.HyperlinkedIdentityField(view_name="api:businesscase-detail")
    initiative_name = serializers.CharField(source="initiative.name", read_only=True)
    tco_monthly = money_out()
    oversight_cost = money_out()
    expected_cost_per_outcome = serializers.DecimalField(max_digits=None, decimal_places=4, read_only=True,
                                                         allow_null=True)

    class Meta:
        model = BusinessCase
        fields = [
            "id", "url", "initiative", "initiative_name", *BUSINESS_CASE_FIELDS,
            "tco_monthly", "oversight_cost", "expected_cost_per_outcome", "created_at", "updated_at",
        ]
        read_only_fields = ["created_at", "updated_at"]

    read_only_hints = {"initiative": "a business case stays with its initiative"}

    def get_fields(self):
        fields = super().get_fields()
        if self.instance is not None and not isinstance(self.instance, list | tuple):
            fields["initiative"].read_only = True  # a business case never moves to another initiative
        return fields


class BusinessCaseUpdateSerializer(BusinessCaseSerializer):
    """A business case as PUT and PATCH take it, for the schema: `initiative` is shown, never written (as for a
    KPI, below); the view answers with BusinessCaseSerializer, as a GET does."""

    class Meta(BusinessCaseSerializer.Meta):
        read_only_fields = ["initiative", *BusinessCaseSerializer.Meta.read_only_fields]


class KPISerializer(ModelSerializer):
    """A KPI; `kind` says how it becomes money and `value_per_unit_label` what its value per unit means for that kind
    (a stated KPI takes none: its owner states the value in each report)."""

    url = serializers.HyperlinkedIdentityField(view_name="api:kpi-detail")
    value_per_unit_label = serializers.CharField(read_only=True)

    class Meta:
        model = KPI
        fields = ["id", "url", "initiative", *KPI_FIELDS, "value_per_unit_label", "created_at", "updated_at"]
        read_only_fields = ["created_at", "updated_at"]
        extra_kwargs = {"baseline": {"error_messages": KPI_FIGURE_MESSAGES},
                        "target": {"error_messages": KPI_FIGURE_MESSAGES}}

    read_only_hints = {"initiative": "a KPI stays with the initiative it was defined for; define it on the other one"}

    def get_fields(self):
        fields = super().get_fields()
        if self.instance is not None and not isinstance(self.instance, list | tuple):
            fields["initiative"].read_only = True  # a KPI belongs to the initiative it was defined for
        return fields


class KPIUpdateSerializer(KPISerializer):
    """A KPI as PUT and PATCH take it, for the schema: `initiative` is shown, never written. The schema reads a
    serializer without a KPI, so KPISerializer's own read-only switch is invisible to it; the view itself keeps
    KPISerializer, whose answer is the KPI as a GET gives it (and so carries its ETag)."""

    class Meta(KPISerializer.Meta):
        read_only_fields = ["initiative", *KPISerializer.Meta.read_only_fields]


class CaseUniqueSerializer(ModelSerializer):
    """Reference data whose key is unique whatever its letter case: a 400 naming the record that holds it
    (portfolio.services.reference.case_duplicate_errors), before the database's own constraint would answer 500."""

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs = super().validate(attrs)
        ensure_no_case_duplicate(self._candidate(attrs))
        return attrs

    def _candidate(self, attrs: dict[str, Any]) -> Model:
        model: type[Model] = self.Meta.model
        candidate = copy.copy(self.instance) if self.instance is not None else model()
        for name, value in attrs.items():
            if not isinstance(value, list):  # many-to-many values are not set on an instance
                setattr(candidate, name, value)
        return candidate

    def save(self, **kwargs: Any) -> Any:
        """Another request may store the same key between this one's check and its write: the constraint then
        refuses it, and the answer is the same 400 naming the record that now exists, not a 500."""
        try:
            with transaction.atomic():
                return super().save(**kwargs)
        except IntegrityError:
            if errors := case_duplicate_errors(self._candidate(dict(self.validated_data))):
                raise serializers.ValidationError({field: [message] for field, message in errors.items()}) from None
            raise


class DepartmentSerializer(CaseUniqueSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="api:department-detail")
    head_email = serializers.EmailField(source="head.email", read_only=True, allow_null=True)

    class Meta:
        model = Department
        fields = ["id", "url", "name", "code", "head", "head_email", "created_at", "updated_at"]
        read_only_fields = ["created_at", "updated_at"]
        # As the Departments page refuses a bad code: the field's help, and the value refused.
        extra_kwargs = {"code": {"error_messages": {"invalid": DEPARTMENT_CODE_INVALID},
                                 "help_text": DEPARTMENT_CODE_HELP}}


class CostCenterSerializer(CaseUniqueSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="api:costcenter-detail")
    department_name = serializers.CharField(source="department.name", read_only=True)
    budget_owner_email = serializers.EmailField(source="budget_owner.email", read_only=True, allow_null=True)
    move_initiatives = serializers.BooleanField(
        write_only=True, required=False, default=False,
        help_text="With a new department: move the initiatives billed to this cost center to it too (each audited as "
                  "a change of that initiative). Without it, moving a cost center that initiatives are billed to is "
                  "refused (400 on department).",
    )

    class Meta:
        model = CostCenter
        fields = ["id", "url", "code", "name", "department", "department_name", "budget_owner", "budget_owner_email",
                  "move_initiatives", "created_at", "updated_at"]
        read_only_fields = ["created_at", "updated_at"]


class VendorSerializer(CaseUniqueSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="api:vendor-detail")

    class Meta:
        model = Vendor
        fields = ["id", "url", "name", "website", "created_at", "updated_at"]
        read_only_fields = ["created_at", "updated_at"]


class AIModelSerializer(CaseUniqueSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="api:aimodel-detail")
    provider_name = serializers.CharField(source="provider.name", read_only=True)

    class Meta:
        model = AIModel
        fields = ["id", "url", "provider", "provider_name", "name", "tier", "input_price_per_mtok",
                  "output_price_per_mtok", "open_weights", "context_window", "substitute", "created_at", "updated_at"]
        read_only_fields = ["created_at", "updated_at"]

    def validate(self, attrs: dict) -> dict:
        """The model's own rule (AIModel.clean): a substitute is another text model of a lower tier."""
        attrs = super().validate(attrs)
        substitute = attrs.get("substitute", getattr(self.instance, "substitute", None))
        if substitute is not None:
            tier = attrs.get("tier", getattr(self.instance, "tier", ""))
            problem = substitute_problem(tier=tier, substitute_tier=substitute.tier,
                                         same_model=self.instance is not None and substitute.pk == self.instance.pk)
            if problem:
                raise serializers.ValidationError({"substitute": f"{substitute.name}: {problem}"})
        return attrs


@extend_schema_field({"type": "string", "pattern": r"^\d{4}-\d{2}(-\d{2})?$", "example": "2026-03"})
class EffectiveMonthField(serializers.Field):
    """A month given as YYYY-MM, or a date (its month), read as the month's first day."""

    default_error_messages = {
        "invalid": "{name} must be a month as YYYY-MM (e.g. 2026-03) or a date as YYYY-MM-DD; got {value!r}."}

    def to_internal_value(self, data: Any) -> date:
        text = str(data).strip()
        try:
            return date.fromisoformat(text).replace(day=1) if len(text) == 10 else Period.parse(text).start
        except ValueError:
            self.fail("invalid", name=self.field_name, value=data)

    def to_representation(self, value: date) -> str:
        return f"{value:%Y-%m}"


class LicencePoolTermsSerializer(Serializer):
    """One row of a pool's terms history: what it was charged from a month until the next row."""

    effective_from = serializers.SerializerMethodField(help_text="YYYY-MM: the first month of these terms.")
    seats_purchased = serializers.IntegerField(read_only=True)
    price_per_seat_month = serializers.DecimalField(max_digits=12, decimal_places=4, read_only=True)
    initiative = serializers.IntegerField(source="initiative_id", read_only=True, allow_null=True,
                                          help_text="The initiative charged (its id); null: none.")

    def get_effective_from(self, row: LicencePoolTerms) -> str:
        return f"{row.effective_from:%Y-%m}"


class LicencePoolSerializer(ModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="api:licencepool-detail")
    vendor_name = serializers.CharField(source="vendor.name", read_only=True)
    initiative_name = serializers.CharField(source="initiative.name", read_only=True, allow_null=True)
    monthly_cost = money_out()
    effective_from = EffectiveMonthField(
        write_only=True, required=False,
        help_text="The month new seats, price or initiative apply from (YYYY-MM or a date; default: the current "
                  "month). Earlier months keep their terms; the pool's first month corrects them throughout; on "
                  "create, the month the pool charges from.")
    terms = LicencePoolTermsSerializer(many=True, read_only=True,
                                       help_text="The pool's terms history, oldest first.")

    read_only_hints = {"terms": "it follows seats_purchased, price_per_seat_month and initiative, from effective_from"}

    class Meta:
        model = LicencePool
        fields = ["id", "url", "tool", "vendor", "vendor_name", "seats_purchased", "price_per_seat_month",
                  "initiative", "initiative_name", "monthly_cost", "effective_from", "terms", "created_at",
                  "updated_at"]
        read_only_fields = ["created_at", "updated_at"]


# An initiative's actual cost month by month: GET /api/initiatives/<id>/costs/ --------------------------------------


class MonthField(serializers.Field):
    """A month given as YYYY-MM (a query parameter), read as the month's first day."""

    default_error_messages = {"invalid": "{name!r} must be a month as YYYY-MM, e.g. 2026-01; got {value!r}."}

    def to_internal_value(self, data: Any) -> date:
        try:
            return Period.parse(str(data)).start
        except ValueError:
            self.fail("invalid", name=self.field_name, value=data)

    def to_representation(self, value: date) -> str:
        return f"{value:%Y-%m}"


class CostRangeSerializer(serializers.Serializer):
    """?from=YYYY-MM&to=YYYY-MM, both optional: a missing bound is twelve months from the other, and without either
    the range is the last twelve months with data."""

    def get_fields(self) -> dict[str, serializers.Field]:
        return {"from": MonthField(required=False), "to": MonthField(required=False)}  # "from" is a keyword

    def validate(self, attrs: dict[str, date]) -> dict[str, date]:
        start, end = attrs.get("from"), attrs.get("to")
        this_month = timezone.localdate().replace(day=1)
        not_begun = {name: f"'{name}' ({month:%Y-%m}) is after the current month ({this_month:%Y-%m}): a month "
                           "that has not begun has no cost yet."
                     for name, month in (("from", start), ("to", end)) if month is not None and month > this_month}
        if not_begun:
            raise serializers.ValidationError(not_begun)
        if start is not None and end is not None:
            if start > end:
                raise serializers.ValidationError({"from": f"'from' ({start:%Y-%m}) is after 'to' ({end:%Y-%m})."})
            if len(month_range(start, end)) > MAX_HISTORY_MONTHS:
                raise serializers.ValidationError(
                    {"to": f"At most {MAX_HISTORY_MONTHS} months at a time; ask for several ranges."})
        return attrs


class CategoryCostSerializer(serializers.Serializer):
    amount = money_number()
    actual = serializers.BooleanField(help_text="From cost records or value reports; false: estimated.")


MONTH_DATA_HELP = (
    "What the month's figures are worth. \"complete\": it has ended and every cost source delivered it, final. "
    "\"partial\": the month in progress, a month a cost source still owes, or one read but not complete yet: more "
    "cost may come, so leave it out of a sum of final figures. \"unread\": no cost source read it, so total, actual "
    "and estimated are null (unknown, not zero). \"not_started\": before the initiative's start date, without "
    "cost: its $0 is right."
)


class MonthCostSerializer(serializers.Serializer):
    month = serializers.CharField(help_text="YYYY-MM")
    total = money_number(allow_null=True, help_text=f"The month's TCO; {UNREAD_NULL}")
    actual = money_number(allow_null=True, help_text=f"Its part from cost records and value reports; {UNREAD_NULL}")
    estimated = money_number(allow_null=True, help_text=f"Its estimated part; {UNREAD_NULL}")
    basis = serializers.ChoiceField(
        choices=["actual", "partly estimated", "estimated"], allow_null=True,
        help_text="What kind of figure the total is; null in a month without cost or without data.")
    by_category = serializers.DictField(
        child=CategoryCostSerializer(),
        help_text="Each category with a cost this month: inference, compute, storage, licences, oversight, "
                  "maintenance, other; empty in a month without data.")
    data_note = serializers.CharField(help_text="Why, in a sentence (e.g. \"Not complete (azure-focus still owes "
                                                "it), so more cost may come.\").")
    business_case = serializers.DecimalField(
        max_digits=14, decimal_places=2, coerce_to_string=False, read_only=True, allow_null=True,
        help_text="The approved business case's monthly TCO (as it stands when never approved); null without a "
                  "business case.")
    declared = money_number()
    gpu_hours = serializers.DecimalField(
        max_digits=24, decimal_places=6, coerce_to_string=False, read_only=True, allow_null=True,
        help_text="GPU-hours the GPU clusters (OpenCost, a plain CSV in GPU-hours) report for it this month; null "
                  "without GPU records.")
    gpu_cost = serializers.DecimalField(
        max_digits=14, decimal_places=2, coerce_to_string=False, read_only=True, allow_null=True,
        help_text="What those GPU-hours cost, as gpu_cost_basis says: the GPU cost where the source gives it apart "
                  "(OpenCost's gpuCost + gpuCostAdjustment), else the whole cost of the records carrying them; null "
                  "without GPU records.")
    gpu_hour_price = serializers.DecimalField(
        max_digits=14, decimal_places=2, coerce_to_string=False, read_only=True, allow_null=True,
        help_text="gpu_cost / gpu_hours: the effective price per GPU-hour; null without GPU-hours.")
    gpu_cost_basis = serializers.ChoiceField(
        choices=GpuCostBasis.choices, allow_null=True, read_only=True,
        help_text="What gpu_cost is: \"gpu\" the GPU cost alone; \"records\" the whole cost of the records with "
                  "GPU-hours (a plain CSV GPU line, or an OpenCost month read before its GPU cost was kept: CPU and "
                  "memory included); \"mixed\" some of each; null without GPU records.")

    def get_fields(self) -> dict[str, serializers.Field]:
        # declared here: a class attribute named `data` would hide Serializer.data
        return {**super().get_fields(),
                "data": serializers.ChoiceField(choices=list(TCO_MONTH_DATA), help_text=MONTH_DATA_HELP)}


class InitiativeCostsSerializer(serializers.Serializer):
    """An initiative's total cost of ownership month by month, each part actual or estimated."""

    def get_fields(self) -> dict[str, serializers.Field]:
        return {
            "initiative": serializers.CharField(help_text="The initiative's external id."),
            "currency": serializers.CharField(help_text="The reporting currency of every amount."),
            "from": serializers.CharField(allow_null=True, help_text="First month (YYYY-MM); null without data."),
            "to": serializers.CharField(allow_null=True, help_text="Last month (YYYY-MM); null without data."),
            "data": serializers.ChoiceField(
                choices=["complete", "partial", "unread"], allow_null=True,
                help_text="What the range adds up to: \"complete\" when every month is complete (or before the "
                          "start date), \"unread\" when no cost source read any, else \"partial\"; null without "
                          "months."),
            "months": MonthCostSerializer(many=True),
            "total": money_number(allow_null=True, help_text=(
                "The TCO of the months with figures (unread months add nothing: they are unknown); null when no "
                "cost source read any month of the range.")),
            "actual": money_number(allow_null=True, help_text="Its part from cost records and value reports; null "
                                                              "as total is."),
            "estimated": money_number(allow_null=True, help_text="Its estimated part; null as total is."),
        }


# People (administrators only): accounts, roles and profiles, written through portfolio.services.people ---------------


class PersonSerializer(ModelSerializer):
    """Someone with an account, as the People page lists them."""

    roles = serializers.SerializerMethodField(help_text="Their roles: owner, reviewer, executive, admin (a superuser "
                                                        "is an administrator whatever their groups).")
    department = serializers.SerializerMethodField(help_text="Their department's id, or null.")
    department_name = serializers.SerializerMethodField()
    title = serializers.SerializerMethodField()
    delegates = serializers.SerializerMethodField(help_text="Ids of the people who act for them on everything they "
                                                            "own.")
    initiatives_owned = serializers.IntegerField(read_only=True)
    has_password = serializers.SerializerMethodField(help_text="Whether they have a Tollgate password (false: single "
                                                               "sign-on only, or not yet set from an invitation).")
    sign_in = serializers.SerializerMethodField(help_text="password, sso (no password, has signed in), invited (no "
                                                          "password yet, invitation sent), not_invited or "
                                                          "integration (nobody signs in: an integration account).")
    integration_account = serializers.SerializerMethodField(
        help_text="Whether a script or tool uses the account and nobody signs in to it: administrators issue its API "
                  "tokens. Marked on the People page.")
    invited_at = serializers.DateTimeField(read_only=True, allow_null=True,
                                           help_text="When the last invitation or password link was e-mailed.")

    class Meta:
        model = get_user_model()
        fields = ["id", "username", "email", "first_name", "last_name", "roles", "department", "department_name",
                  "title", "delegates", "is_active", "last_login", "initiatives_owned", "has_password", "sign_in",
                  "invited_at", "integration_account"]
        read_only_fields = fields

    def _profile(self, user: Any) -> Any:
        return getattr(user, "profile", None)

    def get_roles(self, user: Any) -> list[str]:
        return [role.value for role in roles_shown(user)]  # groups prefetched by the selector

    def get_department(self, user: Any) -> int | None:
        profile = self._profile(user)
        return profile.department_id if profile else None

    def get_department_name(self, user: Any) -> str | None:
        profile = self._profile(user)
        return profile.department.name if profile and profile.department else None

    def get_title(self, user: Any) -> str:
        profile = self._profile(user)
        return profile.title if profile else ""

    def get_delegates(self, user: Any) -> list[int]:
        profile = self._profile(user)
        return sorted(delegate.pk for delegate in profile.delegates.all()) if profile else []

    def get_has_password(self, user: Any) -> bool:
        return user.has_usable_password()

    def get_sign_in(self, user: Any) -> str:
        return sign_in_kind(user)

    def get_integration_account(self, user: Any) -> bool:
        return integration_flag(user)


def _roles_field(**kwargs: Any) -> serializers.ListField:
    return serializers.ListField(child=ChoiceField(choices=Role.choices), **kwargs)


class PersonCreateSerializer(Serializer):
    """Someone added by hand: their account is named by their e-mail address."""

    read_as = PersonSerializer

    email = serializers.EmailField()
    first_name = serializers.CharField(max_length=150)
    last_name = serializers.CharField(max_length=150)
    roles = _roles_field(required=False, default=list)
    department = IdField(queryset=Department.objects.all(), required=False, allow_null=True, default=None)
    title = serializers.CharField(max_length=160, required=False, allow_blank=True, default="")
    invite = serializers.BooleanField(
        required=False, default=True,
        help_text="E-mail them a link to set their password (refused with PASSWORD_LOGIN off: send false).")

    def to_internal_value(self, data: Any) -> Any:
        """A 400 names every wrong field at once: the service's checks (person_create_errors) run on the fields that
        parsed when others did not (when all parse, person_create runs them)."""
        try:
            return super().to_internal_value(data)
        except serializers.ValidationError as exc:
            parsed: dict[str, Any] = {}
            for name in ("email", "roles"):
                field = self.fields[name]
                if not isinstance(exc.detail, dict) or name in exc.detail:
                    continue
                try:
                    parsed[name] = field.run_validation(field.get_value(data))
                except (serializers.ValidationError, SkipField):
                    continue
            roles = parsed.get("roles")
            errors = person_create_errors(email=parsed.get("email"),
                                          roles=None if roles is None else {Role(value) for value in roles})
            if isinstance(exc.detail, dict):
                for name, message in errors.items():
                    exc.detail[name] = [serializers.ErrorDetail(message, code="invalid")]
            raise


class PersonUpdateSerializer(Serializer):
    """What an administrator changes about someone; a field left out keeps its value. The rest of the person as a GET
    shows it may be sent back unchanged."""

    read_as = PersonSerializer

    roles = _roles_field(required=False)
    is_active = serializers.BooleanField(required=False)
    department = IdField(queryset=Department.objects.all(), required=False, allow_null=True)
    title = serializers.CharField(max_length=160, required=False, allow_blank=True)
    delegates = IdField(queryset=get_user_model().objects.all(), many=True, required=False)


class HandOverSerializer(Serializer):
    to = IdField(queryset=get_user_model().objects.all(),
                 help_text="The active initiative owner (or administrator) who takes over.")


class HandedOverSerializer(serializers.Serializer):
    to = serializers.IntegerField(help_text="Who owns them now.")
    initiatives = serializers.ListField(child=serializers.CharField(),
                                        help_text="The external ids of the initiatives handed over.")
    no_longer_delegate = serializers.ListField(
        child=serializers.CharField(),
        help_text="Those on which the new owner was a delegate and no longer is: an owner is not also its delegate.")
