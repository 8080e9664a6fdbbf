"""Routes of the portfolio API under /api/ (namespace "api": reverse("api:initiative-list"))."""

from django.urls import path

from portfolio.api import views
from portfolio.costs.api import views as costs
from portfolio.dashboard.api import DashboardAPIView
from tollgate.api_root import TollgateRouter

app_name = "api"

# GET /api/: the portfolio's records, then every other family of endpoints.
router = TollgateRouter(families={
    "dashboard": "api:dashboard",
    "me": "api_me",
    "governance": "governance_api:api-root",
    "reviews": "reviews_api:api-root",
    "auth-token": "api_token",
    "schema": "schema",
    "docs": "api_docs",
})
router.register("initiatives", views.InitiativeViewSet, basename="initiative")
router.register("business-cases", views.BusinessCaseViewSet, basename="businesscase")
router.register("kpis", views.KPIViewSet, basename="kpi")
router.register("departments", views.DepartmentViewSet, basename="department")
router.register("cost-centers", views.CostCenterViewSet, basename="costcenter")
router.register("vendors", views.VendorViewSet, basename="vendor")
router.register("models", views.AIModelViewSet, basename="aimodel")
router.register("licence-pools", views.LicencePoolViewSet, basename="licencepool")
router.register("people", views.PersonViewSet, basename="person")
# Cost and usage ingestion (issue 5)
router.register("cost-sources", costs.CostSourceViewSet, basename="costsource")
router.register("allocation-rules", costs.AllocationRuleViewSet, basename="allocationrule")
router.register("ingestion-runs", costs.IngestionRunViewSet, basename="ingestionrun")
router.register("currency-rates", costs.CurrencyRateViewSet, basename="currencyrate")

urlpatterns = [path("dashboard/", DashboardAPIView.as_view(), name="dashboard"), *router.urls]
