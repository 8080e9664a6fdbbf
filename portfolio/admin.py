"""Django admin for administrators: every portfolio model, searchable, with its relations inline."""

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin

from portfolio import models


class ProfileInline(admin.StackedInline):
    """People are Django users; their department, title and delegates live on the profile."""

    model = models.Profile
    fk_name = "user"
    can_delete = False
    autocomplete_fields = ["department", "delegates"]


admin.site.unregister(get_user_model())


@admin.register(get_user_model())
class PersonAdmin(UserAdmin):
    inlines = [ProfileInline]
    list_display = ["username", "email", "first_name", "last_name", "is_staff", "is_active"]
    list_filter = ["groups", "is_staff", "is_active"]


class CostCenterInline(admin.TabularInline):
    model = models.CostCenter
    extra = 0
    autocomplete_fields = ["budget_owner"]


@admin.register(models.Department)
class DepartmentAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "head"]
    search_fields = ["name", "code"]
    autocomplete_fields = ["head"]
    inlines = [CostCenterInline]


@admin.register(models.CostCenter)
class CostCenterAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "department", "budget_owner"]
    list_filter = ["department"]
    search_fields = ["code", "name"]
    autocomplete_fields = ["department", "budget_owner"]


@admin.register(models.Profile)
class ProfileAdmin(admin.ModelAdmin):
    list_display = ["user", "department", "title"]
    list_filter = ["department"]
    search_fields = ["user__email", "user__first_name", "user__last_name", "title"]
    autocomplete_fields = ["user", "department", "delegates"]


@admin.register(models.Vendor)
class VendorAdmin(admin.ModelAdmin):
    list_display = ["name", "website"]
    search_fields = ["name"]


@admin.register(models.AIModel)
class AIModelAdmin(admin.ModelAdmin):
    list_display = ["name", "provider", "tier", "input_price_per_mtok", "output_price_per_mtok", "open_weights",
                    "context_window"]
    list_filter = ["tier", "open_weights", "provider"]
    search_fields = ["name", "provider__name"]
    autocomplete_fields = ["provider"]


class BusinessCaseInline(admin.StackedInline):
    model = models.BusinessCase
    extra = 0


class KPIInline(admin.TabularInline):
    model = models.KPI
    extra = 0


class LicencePoolInline(admin.TabularInline):
    model = models.LicencePool
    extra = 0
    autocomplete_fields = ["vendor"]


@admin.register(models.Initiative)
class InitiativeAdmin(admin.ModelAdmin):
    list_display = ["external_id", "name", "department", "owner", "stage", "category", "declared_monthly_cost"]
    list_filter = ["stage", "category", "department"]
    search_fields = ["external_id", "name", "description", "owner__email"]
    autocomplete_fields = ["department", "cost_center", "owner", "delegates", "vendors", "ai_models"]
    list_select_related = ["department", "owner"]
    # The stage moves only through governed transitions (governance app), never by editing the field.
    readonly_fields = ["stage", "created_at", "updated_at"]
    inlines = [BusinessCaseInline, KPIInline, LicencePoolInline]


@admin.register(models.BusinessCase)
class BusinessCaseAdmin(admin.ModelAdmin):
    list_display = ["initiative", "baseline_cost_per_outcome", "expected_monthly_volume", "min_viable_scale"]
    search_fields = ["initiative__name", "initiative__external_id"]
    autocomplete_fields = ["initiative"]


@admin.register(models.KPI)
class KPIAdmin(admin.ModelAdmin):
    list_display = ["name", "initiative", "unit", "baseline", "target", "direction", "value_per_unit"]
    search_fields = ["name", "initiative__name"]
    autocomplete_fields = ["initiative"]


@admin.register(models.LicencePool)
class LicencePoolAdmin(admin.ModelAdmin):
    list_display = ["tool", "vendor", "seats_purchased", "price_per_seat_month", "initiative"]
    list_filter = ["vendor"]
    search_fields = ["tool", "vendor__name", "initiative__name"]
    autocomplete_fields = ["vendor", "initiative"]


@admin.register(models.ImportRun)
class ImportRunAdmin(admin.ModelAdmin):
    """Runs are a record of what happened: read-only here."""

    list_display = ["created_at", "filename", "actor", "trigger", "dry_run", "status", "rows_created", "rows_updated"]
    list_filter = ["status", "trigger", "dry_run"]
    readonly_fields = [f.name for f in models.ImportRun._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


# Cost and usage ingestion (issue 5) ----------------------------------------------------------------------------------


class AllocationRuleInline(admin.TabularInline):
    model = models.AllocationRule
    extra = 0
    autocomplete_fields = ["initiative"]
    ordering = ["order", "id"]


@admin.register(models.CostSource)
class CostSourceAdmin(admin.ModelAdmin):
    """Only the NAME of the credential's environment variable is stored and shown, never the secret."""

    list_display = ["name", "type", "schedule", "enabled", "credential_env", "updated_at"]
    list_filter = ["type", "enabled"]
    search_fields = ["name"]
    inlines = [AllocationRuleInline]


@admin.register(models.AllocationRule)
class AllocationRuleAdmin(admin.ModelAdmin):
    list_display = ["source", "order", "key", "match", "value", "initiative"]
    list_filter = ["source", "match"]
    search_fields = ["key", "value", "initiative__name", "initiative__external_id"]
    autocomplete_fields = ["initiative"]
    ordering = ["source__name", "order", "id"]


class _ReadOnlyAdmin(admin.ModelAdmin):
    """Records written by ingestion runs: visible for diagnosis, changed only by the runs themselves."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(models.IngestionRun)
class IngestionRunAdmin(_ReadOnlyAdmin):
    list_display = ["created_at", "source", "period", "trigger", "status", "rows_read", "rows_written", "rows_skipped",
                    "unallocated_amount"]
    list_filter = ["status", "trigger", "source"]
    readonly_fields = [f.name for f in models.IngestionRun._meta.fields]


@admin.register(models.CostRecord)
class CostRecordAdmin(_ReadOnlyAdmin):
    list_display = ["charge_date", "source", "amount", "currency", "amount_reporting", "category", "service_name",
                    "initiative"]
    list_filter = ["source", "category", "currency"]
    search_fields = ["service_name", "model", "description"]
    list_select_related = ["source", "initiative"]


@admin.register(models.UsageRecord)
class UsageRecordAdmin(_ReadOnlyAdmin):
    list_display = ["usage_date", "source", "model", "input_tokens", "output_tokens", "cached_tokens", "requests",
                    "initiative"]
    list_filter = ["source"]
    search_fields = ["model"]


@admin.register(models.SeatActivity)
class SeatActivityAdmin(_ReadOnlyAdmin):
    list_display = ["period", "source", "licence_pool", "user", "assigned", "last_activity"]
    list_filter = ["source", "licence_pool"]
    search_fields = ["user"]


@admin.register(models.CurrencyRate)
class CurrencyRateAdmin(admin.ModelAdmin):
    list_display = ["currency", "valid_from", "rate_to_reporting"]
    list_filter = ["currency"]


@admin.register(models.MonthlyCost)
class MonthlyCostAdmin(_ReadOnlyAdmin):
    list_display = ["month", "initiative", "category", "amount"]
    list_filter = ["month", "category"]


@admin.register(models.MonthlyTokenUsage)
class MonthlyTokenUsageAdmin(_ReadOnlyAdmin):
    list_display = ["month", "initiative", "model", "input_tokens", "output_tokens", "cached_tokens", "requests"]
    list_filter = ["month"]


@admin.register(models.LicencePoolActivity)
class LicencePoolActivityAdmin(_ReadOnlyAdmin):
    list_display = ["month", "licence_pool", "purchased", "assigned", "active_30d"]
    list_filter = ["month"]
