from django.urls import path

from governance import views
from governance.lifecycle import TRANSITIONS
from governance.signals import views as signal_views
from governance.sprawl import views as sprawl_views

app_name = "governance"

urlpatterns = [
    path("queue/", views.ReviewQueueView.as_view(), name="queue"),
    path("initiatives/<int:pk>/score/", views.ScoreView.as_view(), name="score"),
    # One named route per transition (governance:transition_<name>), all at initiatives/<pk>/transition/<name>/.
    *[
        path(f"initiatives/<int:pk>/transition/{name}/", views.TransitionView.as_view(transition=step),
             name=f"transition_{name}")
        for name, step in TRANSITIONS.items()
    ],
    path("audit/", views.AuditTrailView.as_view(), name="audit"),
    path("policies/", views.PolicyListView.as_view(), name="policy_list"),
    path("policies/<str:key>/edit/", views.PolicyEditView.as_view(), name="policy_edit"),
    path("rubric/", views.RubricView.as_view(), name="rubric"),
    # Sprawl detection
    path("sprawl/", sprawl_views.SprawlClusterListView.as_view(), name="sprawl_list"),
    path("sprawl/recompute/", sprawl_views.SprawlRecomputeView.as_view(), name="sprawl_recompute"),
    path("sprawl/runs/<int:pk>/", sprawl_views.SprawlRunDetailView.as_view(), name="sprawl_run_detail"),
    path("sprawl/checks/new/", sprawl_views.SprawlLabelCheckCreateView.as_view(), name="sprawl_check_new"),
    path("sprawl/checks/labels-to-fill-in.csv", sprawl_views.SprawlLabelTemplateView.as_view(),
         name="sprawl_check_template"),
    path("sprawl/checks/<int:pk>/", sprawl_views.SprawlLabelCheckDetailView.as_view(), name="sprawl_check_detail"),
    path("sprawl/<int:pk>/", sprawl_views.SprawlClusterDetailView.as_view(), name="sprawl_detail"),
    path("sprawl/<int:pk>/confirm/", sprawl_views.SprawlClusterDecideView.as_view(decision="confirm"),
         name="sprawl_confirm"),
    path("sprawl/<int:pk>/dismiss/", sprawl_views.SprawlClusterDecideView.as_view(decision="dismiss"),
         name="sprawl_dismiss"),
    path("sprawl/<int:pk>/remove-member/", sprawl_views.SprawlMemberRemoveView.as_view(),
         name="sprawl_member_remove"),
    path("use-cases/", sprawl_views.UseCaseListView.as_view(), name="usecase_list"),
    path("use-cases/<slug:code>/", sprawl_views.UseCaseDetailView.as_view(), name="usecase_detail"),
    path("initiatives/<int:pk>/use-cases/", sprawl_views.InitiativeUseCasesView.as_view(),
         name="initiative_use_cases"),
    path("initiatives/<int:pk>/possible-duplicates/", sprawl_views.InitiativeDuplicatesView.as_view(),
         name="initiative_duplicates"),
    path("possible-duplicates/", sprawl_views.DraftDuplicatesView.as_view(), name="draft_duplicates"),
    path("initiatives/<int:pk>/duplicate-decisions/", sprawl_views.DuplicatePairDecideView.as_view(),
         name="duplicate_pair_decide"),
    path("duplicate-decisions/<int:pk>/undo/", sprawl_views.DuplicatePairUndoView.as_view(),
         name="duplicate_pair_undo"),
    # Signals
    path("signals/", signal_views.SignalListView.as_view(), name="signal_list"),
    path("signals/recompute/", signal_views.SignalRecomputeView.as_view(), name="signal_recompute"),
    path("signals/runs/<int:pk>/", signal_views.SignalRunDetailView.as_view(), name="signal_run_detail"),
    path("signals/<int:pk>/", signal_views.SignalDetailView.as_view(), name="signal_detail"),
    *[
        path(f"signals/<int:pk>/{action}/", signal_views.SignalActionView.as_view(action=action),
             name=f"signal_{action}")
        for action in ("acknowledge", "dismiss", "resolve")
    ],
]
