from django.apps import AppConfig


class GovernanceConfig(AppConfig):
    name = "governance"
    verbose_name = "Governance"

    def ready(self) -> None:
        from auditlog.registry import auditlog

        from governance import models
        # Administrators edit the rubric in the Django admin: its field history is the audit of those edits.
        # Policies, scores and submissions get explicit audit rows from governance.services instead.
        auditlog.register(models.RubricCriterion)
        # Sprawl detection: administrators' edits of the catalogue are field history; the loader writes its own rows.
        auditlog.register(models.UseCase)

        from django.db.models.signals import post_migrate

        from governance.sprawl.services.use_cases import use_case_catalogue_load_on_migrate

        post_migrate.connect(use_case_catalogue_load_on_migrate, sender=self,
                             dispatch_uid="governance.use_case_catalogue_load")

        from governance.sprawl.receivers import sprawl_recompute_after_import
        from portfolio.signals import inventory_changed

        inventory_changed.connect(sprawl_recompute_after_import,
                                  dispatch_uid="governance.sprawl_recompute_after_import")

        from governance.receivers import cost_forecast_refresh_after_ingestion
        from governance.signals.receivers import signals_compute_after_ingestion
        from portfolio.signals import costs_ingested

        costs_ingested.connect(cost_forecast_refresh_after_ingestion,
                               dispatch_uid="governance.cost_forecast_refresh_after_ingestion")
        costs_ingested.connect(signals_compute_after_ingestion, dispatch_uid="governance.signals_after_ingestion")

        from governance.signals.receivers import signals_compute_after_owners_change
        from portfolio.signals import owners_changed

        owners_changed.connect(signals_compute_after_owners_change, dispatch_uid="governance.signals_after_owners")

        from governance.receivers import hand_over_notify
        from portfolio.signals import initiatives_handed_over

        initiatives_handed_over.connect(hand_over_notify, dispatch_uid="governance.hand_over_notify")

        from governance import selectors
        from portfolio import evidence as portfolio_evidence
        from portfolio.dashboard import providers as dashboard

        # How late a cost source may be is a policy; portfolio's ingestion health reads it through its evidence.
        portfolio_evidence.register_ingestion_grace_days(selectors.ingestion_grace_days)

        # The quarter's intake decisions and lifecycle steps go into the board pack.
        dashboard.register_decisions(selectors.quarter_decisions)
        dashboard.register_data_version(
            selectors.dashboard_data_version,
            models=(models.Signal, models.SprawlCluster, models.Policy, models.SignalRun, models.SprawlRun))

        from governance.sprawl.selectors import dashboard_sprawl, dashboard_sprawl_track

        # Open and confirmed sprawl clusters, with what consolidating would save, join the dashboard, with how often
        # reviewers found the detector right.
        dashboard.register_sprawl(dashboard_sprawl, track_record=dashboard_sprawl_track)

        from governance.signals.selectors import dashboard_candidates

        # Open kill and scale signals are the dashboard's and the board pack's candidates.
        dashboard.register_candidates(dashboard_candidates)

        from governance.signals.selectors import signal_counts
        from tollgate import metrics

        # Prometheus reads the signals by type and status at each scrape.
        metrics.scrape_gauge_register("tollgate_signals", "Signals by type and status.", ("type", "status"),
                                      signal_counts)
