from django.apps import AppConfig
from django.db.models.signals import post_migrate

# The account fields whose changes are field history in the audit trail (tests check the admin's edits land there).
ACCOUNT_FIELDS = ("username", "email", "first_name", "last_name", "is_active", "is_staff", "is_superuser")


class PortfolioConfig(AppConfig):
    name = "portfolio"
    verbose_name = "Portfolio"

    def ready(self) -> None:
        from auditlog.registry import auditlog

        from portfolio import models
        from tollgate.roles import sync_role_groups

        # Case-insensitive search and sorting fold every letter on SQLite too, as on PostgreSQL.
        from tollgate.sqlite_text import install

        install()
        # Every table cell with a render_/value_ method asked for its signature anew: once per method instead.
        from tollgate.ui.cell_signatures import install_cell_signatures

        install_cell_signatures()
        # After every app's migrate signal (permissions of later apps exist only then); it is idempotent.
        post_migrate.connect(sync_role_groups, dispatch_uid="tollgate.sync_role_groups")
        # The currency the database's amounts are in, recorded at every migrate; a REPORTING_CURRENCY that differs
        # on a database holding amounts stops migrate, runserver and `manage.py check` (portfolio.E001).
        from django.core import checks

        from portfolio.costs.checks import amounts_currency_check
        from portfolio.costs.services.amounts_currency import amounts_currency_on_migrate

        post_migrate.connect(amounts_currency_on_migrate, sender=self, dispatch_uid="tollgate.amounts_currency")
        checks.register(amounts_currency_check)
        # `check --deploy` warns when production has no EMAIL_URL (mail would only reach the log).
        from tollgate.mail import email_url_check

        checks.register(email_url_check, "email", deploy=True)
        # A new session starts with the person's own time zone (the pages show times in it).
        from django.contrib.auth.signals import user_logged_in

        from tollgate.time_zones import time_zone_on_login

        user_logged_in.connect(time_zone_on_login, dispatch_uid="tollgate.time_zone_on_login")
        # Field-level history of what owners and admins edit; decisions get their own audit rows.
        auditlog.register(models.Initiative, m2m_fields={"vendors", "ai_models", "delegates"})
        auditlog.register(models.BusinessCase)
        auditlog.register(models.KPI)
        auditlog.register(models.LicencePool)
        auditlog.register(models.Department)
        auditlog.register(models.CostCenter)
        # Reference data written in the admin and the API without a service of its own: vendors, the model catalogue
        # (its tiers, prices and substitutes drive the right-sizing signals) and the profile, whose delegates act for
        # the person on every initiative they own.
        auditlog.register(models.Vendor)
        auditlog.register(models.AIModel)
        auditlog.register(models.Profile, m2m_fields={"delegates"}, exclude_fields=["digest_sent_at", "deactivated_at",
                                                                                 "integration_account"])
        # Accounts: who they are and whether they may sign in or use the admin. Roles are audited by their service
        # (person_set_roles, "roles_changed"); sign-in times and password hashes are not history anyone reads.
        from django.contrib.auth import get_user_model

        auditlog.register(get_user_model(), include_fields=list(ACCOUNT_FIELDS))
        # Sources, allocation rules and rates decide where money lands: their edits belong in the audit trail.
        auditlog.register(models.CostSource)
        auditlog.register(models.AllocationRule)
        auditlog.register(models.CurrencyRate)
        # Every entry about an initiative's own records names the initiative, so that the initiative filter still
        # finds it once the record is deleted (tollgate.audit; apps with such records register theirs too).
        from operator import attrgetter

        from auditlog.signals import post_log

        from tollgate import audit

        post_log.connect(audit.entry_logged, dispatch_uid="tollgate.audit.entry_logged")
        for model in (models.BusinessCase, models.KPI, models.LicencePool):
            audit.register_initiative_of(model, attrgetter("initiative_id"))

        from portfolio.dashboard import providers as dashboard

        # Edits of what the dashboard reads refresh it at once; a finished run marks its bulk writes.
        dashboard.watch(models.Initiative, models.BusinessCase, models.BusinessCaseVersion, models.KPI,
                        models.LicencePool, models.Department,
                        models.CostCenter, models.CostSource, models.AllocationRule, models.CurrencyRate,
                        models.CostForecast, models.IngestionRun, models.ImportRun)
