from django.urls import path

from reviews import views

app_name = "reviews"

urlpatterns = [
    path("mine/", views.MyReportsView.as_view(), name="mine"),
    path("queue/", views.QueueView.as_view(), name="queue"),
    path("reports/<int:pk>/", views.ReportDetailView.as_view(), name="report_detail"),
    path("reports/<int:pk>/edit/", views.ReportEditView.as_view(), name="report_edit"),
    path("reports/<int:pk>/verdict/", views.VerdictView.as_view(), name="report_verdict"),
    path("reports/<int:pk>/reopen/", views.ReopenView.as_view(), name="report_reopen"),
    path("attachments/<int:pk>/", views.AttachmentDownloadView.as_view(), name="attachment_download"),
    path("cycles/", views.CycleListView.as_view(), name="cycle_list"),
    path("cycles/new/", views.CycleCreateView.as_view(), name="cycle_create"),
    path("cycles/<int:pk>/", views.CycleDetailView.as_view(), name="cycle_detail"),
    path("cycles/<int:pk>/dates/", views.CycleDatesView.as_view(), name="cycle_dates"),
    path("cycles/<int:pk>/close/", views.CycleCloseView.as_view(), name="cycle_close"),
    path("notifications/", views.NotificationListView.as_view(), name="notification_list"),
    path("notifications/read/", views.NotificationsReadView.as_view(), name="notifications_read"),
]
