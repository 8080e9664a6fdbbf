"""Routes of the governance API under /api/governance/ (namespace "governance_api"), sprawl's included."""

from django.urls import path

from governance.api import views
from governance.signals.api import views as signal_views
from governance.sprawl.api import views as sprawl_views
from tollgate.api_root import TollgateRouter

app_name = "governance_api"

# GET /api/governance/ lists its records and the paths under one initiative.
router = TollgateRouter(format_suffixes=False, per_record={
    "initiative-transitions": "governance_api:transitions",
    "initiative-scores": "governance_api:scores",
    "initiative-possible-duplicates": "governance_api:possible_duplicates",
    "initiative-use-cases": "governance_api:initiative_use_cases",
})
router.register("policies", views.PolicyViewSet, basename="policy")
router.register("rubric-criteria", views.RubricCriterionViewSet, basename="rubriccriterion")
router.register("audit-entries", views.AuditEntryViewSet, basename="auditentry")
router.register("use-cases", sprawl_views.UseCaseViewSet, basename="usecase")
router.register("sprawl-clusters", sprawl_views.SprawlClusterViewSet, basename="sprawlcluster")
router.register("sprawl-runs", sprawl_views.SprawlRunViewSet, basename="sprawlrun")
router.register("sprawl-label-checks", sprawl_views.SprawlLabelCheckViewSet, basename="sprawllabelcheck")
router.register("duplicate-pair-decisions", sprawl_views.DuplicatePairDecisionViewSet,
                basename="duplicatepairdecision")
router.register("signals", signal_views.SignalViewSet, basename="signal")
router.register("signal-runs", signal_views.SignalRunViewSet, basename="signalrun")

urlpatterns = [
    path("initiatives/<int:pk>/transitions/", views.TransitionView.as_view(), name="transitions"),
    path("initiatives/<int:pk>/scores/", views.ScoresView.as_view(), name="scores"),
    path("initiatives/<int:pk>/possible-duplicates/", sprawl_views.PossibleDuplicatesView.as_view(),
         name="possible_duplicates"),
    path("initiatives/<int:pk>/use-cases/", sprawl_views.InitiativeUseCasesView.as_view(), name="initiative_use_cases"),
    *router.urls,
]
