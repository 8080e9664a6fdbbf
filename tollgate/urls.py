from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerSplitView

from tollgate.auth import ObtainTokenView
from tollgate.views import health, health_live, health_ready, home, metrics

urlpatterns = [
    path("", home, name="home"),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("health/", health, name="health"),
    path("health/live/", health_live, name="health_live"),
    path("health/ready/", health_ready, name="health_ready"),
    path("metrics", metrics, name="metrics"),
    path("admin/", admin.site.urls),
    path("portfolio/", include("portfolio.urls")),
    path("reviews/", include("reviews.urls")),
    path("api/reviews/", include("reviews.api.urls")),
    path("governance/", include("governance.urls")),
    path("api/governance/", include("governance.api.urls")),
    path("api/", include("portfolio.api.urls")),
    path("api/auth/token/", login_not_required(ObtainTokenView.as_view()), name="api_token"),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="api_docs"),
    path("api/redoc/", SpectacularRedocView.as_view(url_name="schema"), name="api_redoc"),
]

handler404 = "tollgate.views.not_found"
