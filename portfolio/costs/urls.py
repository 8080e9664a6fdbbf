"""Pages of the cost domain, under /portfolio/costs/ in the "portfolio" namespace (names unchanged)."""

from django.urls import path

from portfolio.costs import views as costs

urlpatterns = [
    path("", costs.IngestionHealthView.as_view(), name="ingestion_health"),
    path("sources/", costs.CostSourceListView.as_view(), name="costsource_list"),
    path("sources/new/", costs.CostSourceCreateView.as_view(), name="costsource_create"),
    path("sources/<int:pk>/", costs.CostSourceDetailView.as_view(), name="costsource_detail"),
    path("sources/<int:pk>/edit/", costs.CostSourceUpdateView.as_view(), name="costsource_edit"),
    path("sources/<int:pk>/run/", costs.CostSourceRunView.as_view(), name="costsource_run"),
    path("runs/", costs.IngestionRunListView.as_view(), name="ingestionrun_list"),
    path("runs/<int:pk>/", costs.IngestionRunDetailView.as_view(), name="ingestionrun_detail"),
    path("rules/", costs.AllocationRuleListView.as_view(), name="allocationrule_list"),
    path("rules/new/", costs.AllocationRuleCreateView.as_view(), name="allocationrule_create"),
    path("rules/<int:pk>/edit/", costs.AllocationRuleUpdateView.as_view(), name="allocationrule_edit"),
    path("rules/<int:pk>/delete/", costs.AllocationRuleDeleteView.as_view(), name="allocationrule_delete"),
    path("rules/<int:pk>/move/", costs.AllocationRuleMoveView.as_view(), name="allocationrule_move"),
    path("rates/", costs.CurrencyRateListView.as_view(), name="currencyrate_list"),
    path("rates/new/", costs.CurrencyRateCreateView.as_view(), name="currencyrate_create"),
    path("rates/<int:pk>/edit/", costs.CurrencyRateUpdateView.as_view(), name="currencyrate_edit"),
    path("forecast/", costs.CostForecastView.as_view(), name="cost_forecast"),
]
