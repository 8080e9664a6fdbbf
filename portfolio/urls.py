from django.urls import path

from .views import costs, imports, initiatives, reference

app_name = "portfolio"

urlpatterns = [
    path("initiatives/", initiatives.InitiativeListView.as_view(), name="initiative_list"),
    path("initiatives/new/", initiatives.InitiativeCreateView.as_view(), name="initiative_create"),
    path("initiatives/<int:pk>/", initiatives.InitiativeDetailView.as_view(), name="initiative_detail"),
    path("initiatives/<int:pk>/edit/", initiatives.InitiativeUpdateView.as_view(), name="initiative_edit"),
    path("departments/", reference.DepartmentListView.as_view(), name="department_list"),
    path("departments/<int:pk>/", reference.DepartmentDetailView.as_view(), name="department_detail"),
    path("cost-centers/", reference.CostCenterListView.as_view(), name="costcenter_list"),
    path("cost-centers/<int:pk>/", reference.CostCenterDetailView.as_view(), name="costcenter_detail"),
    path("vendors/", reference.VendorListView.as_view(), name="vendor_list"),
    path("models/", reference.AIModelListView.as_view(), name="aimodel_list"),
    path("licences/", reference.LicencePoolListView.as_view(), name="licencepool_list"),
    path("imports/", imports.ImportRunListView.as_view(), name="import_list"),
    path("imports/new/", imports.ImportCreateView.as_view(), name="import_create"),
    path("imports/<int:pk>/", imports.ImportRunDetailView.as_view(), name="import_detail"),
    # Cost and usage ingestion (issue 5)
    path("costs/", costs.IngestionHealthView.as_view(), name="ingestion_health"),
    path("costs/sources/", costs.CostSourceListView.as_view(), name="costsource_list"),
    path("costs/sources/<int:pk>/", costs.CostSourceDetailView.as_view(), name="costsource_detail"),
    path("costs/sources/<int:pk>/run/", costs.CostSourceRunView.as_view(), name="costsource_run"),
    path("costs/runs/", costs.IngestionRunListView.as_view(), name="ingestionrun_list"),
    path("costs/runs/<int:pk>/", costs.IngestionRunDetailView.as_view(), name="ingestionrun_detail"),
    path("costs/rules/", costs.AllocationRuleListView.as_view(), name="allocationrule_list"),
    path("costs/rules/new/", costs.AllocationRuleCreateView.as_view(), name="allocationrule_create"),
    path("costs/rules/<int:pk>/edit/", costs.AllocationRuleUpdateView.as_view(), name="allocationrule_edit"),
    path("costs/rules/<int:pk>/delete/", costs.AllocationRuleDeleteView.as_view(), name="allocationrule_delete"),
    path("costs/rules/<int:pk>/move/", costs.AllocationRuleMoveView.as_view(), name="allocationrule_move"),
    path("costs/rates/", costs.CurrencyRateListView.as_view(), name="currencyrate_list"),
    path("costs/rates/new/", costs.CurrencyRateCreateView.as_view(), name="currencyrate_create"),
    path("costs/rates/<int:pk>/edit/", costs.CurrencyRateUpdateView.as_view(), name="currencyrate_edit"),
]
