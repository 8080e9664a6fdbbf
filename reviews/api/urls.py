"""Routes of the reviews API under /api/reviews/ (namespace "reviews_api")."""

from rest_framework import routers

from reviews.api import views

app_name = "reviews_api"

router = routers.SimpleRouter()
router.register("cycles", views.ReviewCycleViewSet, basename="cycle")
router.register("reports", views.ValueReportViewSet, basename="report")
router.register("attachments", views.ReportAttachmentViewSet, basename="attachment")
router.register("notifications", views.NotificationViewSet, basename="notification")

urlpatterns = router.urls
