from django.urls import include, path, register_converter

from portfolio.dashboard.converters import QuarterConverter
from portfolio.dashboard.views import BoardPackPdfView, BoardPackView, DashboardView
from portfolio.views import imports, initiatives, people, reference

app_name = "portfolio"
register_converter(QuarterConverter, "quarter")

urlpatterns = [
    path("dashboard/", DashboardView.as_view(), name="dashboard"),
    path("board-pack/<quarter:quarter>/", BoardPackView.as_view(), name="board_pack"),
    path("board-pack/<quarter:quarter>.pdf", BoardPackPdfView.as_view(), name="board_pack_pdf"),
    path("initiatives/", initiatives.InitiativeListView.as_view(), name="initiative_list"),
    path("initiatives/new/", initiatives.InitiativeCreateView.as_view(), name="initiative_create"),
    path("initiatives/<int:pk>/", initiatives.InitiativeDetailView.as_view(), name="initiative_detail"),
    path("initiatives/<int:pk>/edit/", initiatives.InitiativeUpdateView.as_view(), name="initiative_edit"),
    path("initiatives/<int:pk>/start-date/", initiatives.InitiativeStartDateView.as_view(),
         name="initiative_start_date"),
    path("departments/", reference.DepartmentListView.as_view(), name="department_list"),
    path("departments/new/", reference.DepartmentCreateView.as_view(), name="department_create"),
    path("departments/<int:pk>/", reference.DepartmentDetailView.as_view(), name="department_detail"),
    path("departments/<int:pk>/edit/", reference.DepartmentUpdateView.as_view(), name="department_edit"),
    path("cost-centers/", reference.CostCenterListView.as_view(), name="costcenter_list"),
    path("cost-centers/new/", reference.CostCenterCreateView.as_view(), name="costcenter_create"),
    path("cost-centers/<int:pk>/", reference.CostCenterDetailView.as_view(), name="costcenter_detail"),
    path("cost-centers/<int:pk>/edit/", reference.CostCenterUpdateView.as_view(), name="costcenter_edit"),
    path("people/", people.PersonListView.as_view(), name="person_list"),
    path("people/new/", people.PersonCreateView.as_view(), name="person_create"),
    path("people/new-integration/", people.IntegrationAccountCreateView.as_view(), name="integration_account_create"),
    path("people/invite/", people.PersonInviteAllView.as_view(), name="person_invite_all"),
    path("people/tokens/", people.ApiTokenListView.as_view(), name="apitoken_list"),
    path("people/<int:pk>/edit/", people.PersonUpdateView.as_view(), name="person_edit"),
    path("people/<int:pk>/invite/", people.PersonInviteView.as_view(), name="person_invite"),
    path("people/<int:pk>/hand-over/", people.PersonHandOverView.as_view(), name="person_hand_over"),
    path("people/<int:pk>/tokens/revoke/", people.PersonTokensRevokeView.as_view(), name="person_tokens_revoke"),
    path("vendors/", reference.VendorListView.as_view(), name="vendor_list"),
    path("vendors/new/", reference.VendorCreateView.as_view(), name="vendor_create"),
    path("vendors/<int:pk>/edit/", reference.VendorUpdateView.as_view(), name="vendor_edit"),
    path("models/", reference.AIModelListView.as_view(), name="aimodel_list"),
    path("models/new/", reference.AIModelCreateView.as_view(), name="aimodel_create"),
    path("models/<int:pk>/edit/", reference.AIModelUpdateView.as_view(), name="aimodel_edit"),
    path("licences/", reference.LicencePoolListView.as_view(), name="licencepool_list"),
    path("licences/new/", reference.LicencePoolCreateView.as_view(), name="licencepool_create"),
    path("licences/<int:pk>/edit/", reference.LicencePoolUpdateView.as_view(), name="licencepool_edit"),
    path("licences/<int:pk>/delete/", reference.LicencePoolDeleteView.as_view(), name="licencepool_delete"),
    path("imports/", imports.ImportRunListView.as_view(), name="import_list"),
    path("imports/new/", imports.ImportCreateView.as_view(), name="import_create"),
    path("imports/<int:pk>/", imports.ImportRunDetailView.as_view(), name="import_detail"),
    path("costs/", include("portfolio.costs.urls")),
]
