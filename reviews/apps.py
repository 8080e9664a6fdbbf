from django.apps import AppConfig


class ReviewsConfig(AppConfig):
    name = "reviews"
    verbose_name = "Reviews"

    def ready(self) -> None:
        from auditlog.registry import auditlog

        from reviews import models

        # Field history of what owners write; submissions, reopenings and verdicts also get explicit event rows.
        auditlog.register(models.ReviewCycle)
        auditlog.register(models.ValueReport)
        auditlog.register(models.KpiActual)
        auditlog.register(models.ReportAttachment)
        auditlog.register(models.Verdict)
