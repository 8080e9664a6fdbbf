from django.apps import AppConfig
from django.db.models.signals import post_migrate


class PortfolioConfig(AppConfig):
    name = "portfolio"
    verbose_name = "Portfolio"

    def ready(self) -> None:
        from auditlog.registry import auditlog

        from portfolio import models
        from tollgate.roles import sync_role_groups

        # After every app's migrate signal (permissions of later apps exist only then); it is idempotent.
        post_migrate.connect(sync_role_groups, dispatch_uid="tollgate.sync_role_groups")
        # Field-level history of what owners and admins edit; decisions get their own audit rows.
        auditlog.register(models.Initiative, m2m_fields={"vendors", "ai_models", "delegates"})
        auditlog.register(models.BusinessCase)
        auditlog.register(models.KPI)
        auditlog.register(models.LicencePool)
        auditlog.register(models.Department)
        auditlog.register(models.CostCenter)
        # Sources, allocation rules and rates decide where money lands: their edits belong in the audit trail.
        auditlog.register(models.CostSource)
        auditlog.register(models.AllocationRule)
        auditlog.register(models.CurrencyRate)

        from portfolio.dashboard import providers as dashboard

        # Edits of what the dashboard reads refresh it at once; a finished run marks its bulk writes.
        dashboard.watch(models.Initiative, models.BusinessCase, models.BusinessCaseVersion, models.KPI,
                        models.LicencePool, models.Department,
                        models.CostCenter, models.CostSource, models.AllocationRule, models.CurrencyRate,
                        models.CostForecast, models.IngestionRun, models.ImportRun)
