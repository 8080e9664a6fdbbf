"""Shapes of the portfolio API. They validate input and render output; writes go through portfolio.services."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from rest_framework import serializers

from portfolio.calculations import substitute_problem
from portfolio.models import KPI, AIModel, BusinessCase, CostCenter, Department, Initiative, LicencePool, Vendor
from portfolio.services.initiatives import BUSINESS_CASE_FIELDS, KPI_FIELDS
from tollgate.roles import is_admin

User = get_user_model()


def money_out() -> serializers.DecimalField:
    """A read-only dollar figure the model or a selector computes."""
    return serializers.DecimalField(max_digits=14, decimal_places=2, read_only=True)


class InitiativeSerializer(serializers.ModelSerializer):
    """An initiative with a read-only summary of what it points to, so a list needs no follow-up calls.

    Relations are written as ids (department, cost_center, owner, vendors, ai_models, delegates) and read back
    with their names beside them. The stage is read-only: it moves only through governed transitions.
    """

    url = serializers.HyperlinkedIdentityField(view_name="api:initiative-detail")
    department_name = serializers.CharField(source="department.name", read_only=True)
    cost_center_code = serializers.CharField(source="cost_center.code", read_only=True, allow_null=True)
    owner = serializers.PrimaryKeyRelatedField(queryset=User.objects.all(), required=False)
    owner_email = serializers.EmailField(source="owner.email", read_only=True)
    vendor_names: serializers.SlugRelatedField[Vendor] = serializers.SlugRelatedField(
        source="vendors", slug_field="name", many=True, read_only=True
    )
    ai_model_names: serializers.SlugRelatedField[AIModel] = serializers.SlugRelatedField(
        source="ai_models", slug_field="name", many=True, read_only=True
    )
    business_case = serializers.SerializerMethodField()
    tags = serializers.ListField(child=serializers.CharField(max_length=60), required=False)

    class Meta:
        model = Initiative
        fields = [
            "id", "url", "external_id", "name", "description", "category", "stage",
            "department", "department_name", "cost_center", "cost_center_code", "owner", "owner_email",
            "delegates", "vendors", "vendor_names", "ai_models", "ai_model_names", "business_case",
            "start_date", "tags", "declared_monthly_cost", "created_at", "updated_at",
        ]
        read_only_fields = ["external_id", "stage", "created_at", "updated_at"]
        extra_kwargs = {
            "delegates": {"required": False},
            "vendors": {"required": False},
            "ai_models": {"required": False},
        }

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


class BusinessCaseSerializer(serializers.ModelSerializer):
    """A business case with its computed monthly TCO, oversight cost and expected cost per outcome."""

    url = serializers.HyperlinkedIdentityField(view_name="api:businesscase-detail")
    initiative_name = serializers.CharField(source="initiative.name", read_only=True)
    tco_monthly = money_out()
    oversight_cost = money_out()
    expected_cost_per_outcome = serializers.DecimalField(max_digits=16, decimal_places=4, read_only=True,
                                                         allow_null=True)

    class Meta:
        model = BusinessCase
        fields = [
            "id", "url", "initiative", "initiative_name", *BUSINESS_CASE_FIELDS,
            "tco_monthly", "oversight_cost", "expected_cost_per_outcome", "created_at", "updated_at",
        ]
        read_only_fields = ["created_at", "updated_at"]

    def get_fields(self):
        fields = super().get_fields()
        if self.instance is not None and not isinstance(self.instance, list | tuple):
            fields["initiative"].read_only = True  # a business case never moves to another initiative
        return fields


class KPISerializer(serializers.ModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="api:kpi-detail")

    class Meta:
        model = KPI
        fields = ["id", "url", "initiative", *KPI_FIELDS, "created_at", "updated_at"]
        read_only_fields = ["created_at", "updated_at"]

    def get_fields(self):
        fields = super().get_fields()
        if self.instance is not None and not isinstance(self.instance, list | tuple):
            fields["initiative"].read_only = True  # a KPI belongs to the initiative it was defined for
        return fields


class DepartmentSerializer(serializers.ModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="api:department-detail")
    head_email = serializers.EmailField(source="head.email", read_only=True, allow_null=True)

    class Meta:
        model = Department
        fields = ["id", "url", "name", "code", "head", "head_email", "created_at", "updated_at"]
        read_only_fields = ["created_at", "updated_at"]


class CostCenterSerializer(serializers.ModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="api:costcenter-detail")
    department_name = serializers.CharField(source="department.name", read_only=True)
    budget_owner_email = serializers.EmailField(source="budget_owner.email", read_only=True, allow_null=True)

    class Meta:
        model = CostCenter
        fields = ["id", "url", "code", "name", "department", "department_name", "budget_owner", "budget_owner_email",
                  "created_at", "updated_at"]
        read_only_fields = ["created_at", "updated_at"]


class VendorSerializer(serializers.ModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="api:vendor-detail")

    class Meta:
        model = Vendor
        fields = ["id", "url", "name", "website", "created_at", "updated_at"]
        read_only_fields = ["created_at", "updated_at"]


class AIModelSerializer(serializers.ModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="api:aimodel-detail")
    provider_name = serializers.CharField(source="provider.name", read_only=True)

    class Meta:
        model = AIModel
        fields = ["id", "url", "provider", "provider_name", "name", "tier", "input_price_per_mtok",
                  "output_price_per_mtok", "open_weights", "context_window", "substitute", "created_at", "updated_at"]
        read_only_fields = ["created_at", "updated_at"]

    def validate(self, attrs: dict) -> dict:
        """The model's own rule (AIModel.clean): a substitute is another text model of a lower tier."""
        substitute = attrs.get("substitute", getattr(self.instance, "substitute", None))
        if substitute is not None:
            tier = attrs.get("tier", getattr(self.instance, "tier", ""))
            problem = substitute_problem(tier=tier, substitute_tier=substitute.tier,
                                         same_model=self.instance is not None and substitute.pk == self.instance.pk)
            if problem:
                raise serializers.ValidationError({"substitute": f"{substitute.name}: {problem}"})
        return attrs


class LicencePoolSerializer(serializers.ModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="api:licencepool-detail")
    vendor_name = serializers.CharField(source="vendor.name", read_only=True)
    initiative_name = serializers.CharField(source="initiative.name", read_only=True, allow_null=True)
    monthly_cost = money_out()

    class Meta:
        model = LicencePool
        fields = ["id", "url", "tool", "vendor", "vendor_name", "seats_purchased", "price_per_seat_month",
                  "initiative", "initiative_name", "monthly_cost", "created_at", "updated_at"]
        read_only_fields = ["created_at", "updated_at"]
