"""Routes of the reviews API under /api/reviews/ (namespace "reviews_api")."""

from reviews.api import views
from tollgate.api_root import TollgateRouter

app_name = "reviews_api"

router = TollgateRouter(format_suffixes=False)  # GET /api/reviews/ lists its records
router.register("cycles", views.ReviewCycleViewSet, basename="cycle")
router.register("reports", views.ValueReportViewSet, basename="report")
router.register("attachments", views.ReportAttachmentViewSet, basename="attachment")
router.register("notifications", views.NotificationViewSet, basename="notification")

urlpatterns = router.urls
