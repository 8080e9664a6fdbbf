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
        # Their entries name the initiative, so that the initiative filter keeps them once a record is deleted.
        from operator import attrgetter

        from tollgate import audit

        audit.register_initiative_of(models.ValueReport, attrgetter("initiative_id"))
        for model in (models.KpiActual, models.ReportAttachment, models.Verdict):
            audit.register_initiative_of(model, attrgetter("report.initiative_id"))

        from governance import evidence
        from reviews import selectors, services

        # Value reports are governance's evidence: scale for promotion, users for sprawl savings, the reviewer backlog,
        # and every initiative's value figures for the signals; notifications reach owners of new signals.
        evidence.register_scale_evidence(selectors.scale_evidence)
        evidence.register_reported_users(selectors.reported_active_users)
        evidence.register_reviewer_backlog(selectors.reviewer_backlog)
        evidence.register_review_facts(selectors.review_facts)
        evidence.register_notifier(services.notices_send)
        # The audit trail's initiative filter and the initiative's history include its reports' entries.
        evidence.register_initiative_audit_q(selectors.initiative_audit_q)

        from portfolio import evidence as portfolio_evidence

        # Oversight hours reported in value reports are part of an initiative's actual total cost of ownership.
        portfolio_evidence.register_reported_oversight(selectors.reported_oversight)
        # A KPI that submitted value reports measured is kept, so that they keep their figures.
        portfolio_evidence.register_kpis_in_reports(selectors.kpis_in_reports)
        # A running initiative's start date may not move past the period it already reported on.
        portfolio_evidence.register_first_reported_period(selectors.first_reported_period)

        from portfolio.dashboard import providers as dashboard

        # The value each initiative reported for a quarter is the dashboard's value side.
        dashboard.register_quarter_values(selectors.quarter_values)
        dashboard.register_decisions(selectors.quarter_verdicts)
        dashboard.register_data_version(selectors.dashboard_data_version,
                                        models=(models.ValueReport, models.Verdict, models.KpiActual))
