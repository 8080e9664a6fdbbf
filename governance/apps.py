from django.apps import AppConfig


class GovernanceConfig(AppConfig):
    name = "governance"
    verbose_name = "Governance"

    def ready(self) -> None:
        from auditlog.registry import auditlog

        from . import models
        # Administrators edit the rubric in the Django admin: its field history is the audit of those edits.
        # Policies, scores and submissions get explicit audit rows from governance.services instead.
        auditlog.register(models.RubricCriterion)
