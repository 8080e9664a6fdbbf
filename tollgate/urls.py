from django.contrib import admin
from django.contrib.auth.decorators import login_not_required
from django.urls import include, path
from drf_spectacular.views import SpectacularRedocView, SpectacularSwaggerSplitView

from tollgate.account import (
    AccountNotificationsView,
    AccountTokenRevokeView,
    AccountTokenView,
    AccountView,
    MeAPIView,
)
from tollgate.auth import ObtainTokenView, RevokeTokenView
from tollgate.passwords import (
    PasswordChangeView,
    PasswordResetConfirmView,
    PasswordResetDoneView,
    PasswordResetView,
)
from tollgate.schema_view import CachedSpectacularAPIView
from tollgate.sso import LoginView, LogoutView, SSOCallbackView, SSOLoginView
from tollgate.views import health, health_live, health_ready, home, metrics

urlpatterns = [
    path("", home, name="home"),
    path("accounts/login/", LoginView.as_view(), name="login"),
    path("accounts/logout/", LogoutView.as_view(), name="logout"),
    path("accounts/", AccountView.as_view(), name="account"),
    path("accounts/token/", AccountTokenView.as_view(), name="account_token"),
    path("accounts/token/revoke/", AccountTokenRevokeView.as_view(), name="account_token_revoke"),
    path("accounts/notifications/", AccountNotificationsView.as_view(), name="account_notifications"),
    path("accounts/password/", PasswordChangeView.as_view(), name="password_change"),
    path("accounts/password/reset/", PasswordResetView.as_view(), name="password_reset"),
    path("accounts/password/reset/sent/", PasswordResetDoneView.as_view(), name="password_reset_done"),
    path("accounts/password/reset/<uidb64>/<token>/", PasswordResetConfirmView.as_view(),
         name="password_reset_confirm"),
    # Single sign-on (tollgate/sso.py): 404 unless OIDC_RP_CLIENT_ID is set. The names are mozilla-django-oidc's.
    path("oidc/authenticate/", login_not_required(SSOLoginView.as_view()), name="oidc_authentication_init"),
    path("oidc/callback/", login_not_required(SSOCallbackView.as_view()), name="oidc_authentication_callback"),
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
    path("api/auth/token/revoke/", login_not_required(RevokeTokenView.as_view()), name="api_token_revoke"),
    path("api/me/", login_not_required(MeAPIView.as_view()), name="api_me"),
    path("api/schema/", CachedSpectacularAPIView.as_view(), name="schema"),  # generated once per process
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="api_docs"),
    # Our template: drf-spectacular's links Google Fonts, and nothing is loaded from another host.
    path("api/redoc/", SpectacularRedocView.as_view(url_name="schema", template_name="api/redoc.html"),
         name="api_redoc"),
]

# The error page (JSON under /api/); 503 with Retry-After when the database connection was lost.
handler500 = "tollgate.views.server_error"
# A refusal's words on the site's page.
handler403 = "tollgate.views.permission_denied"
# 404 as JSON under /api/, the site's page elsewhere.
handler404 = "tollgate.views.not_found"
