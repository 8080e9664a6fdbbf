from django.urls import path

from . import views
from .lifecycle import TRANSITIONS

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
]
