"""Role-matrix rows of the reviews pages and API (merged by tests/test_roles_matrix.py).

Object names: 'report' is a draft of the owner's initiative, 'submitted_report' a submitted one awaiting a verdict,
'review_cycle' its cycle, 'attachment' evidence on the draft, 'notification' one of the owner's notifications.
Writes send an empty body: a permitted caller reaches validation (400) or a harmless save, others get 403.
"""

from __future__ import annotations

from datetime import date

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from tests.matrix import (
    ADMIN,
    API_ANON,
    API_OWN_PATCH,
    API_READ,
    OWN_EDIT,
    OWNER,
    OWNER_OTHER,
    PAGE_READ,
    REVIEWER,
    Case,
    everyone,
    only,
)

REVIEWER_ONLY = only({REVIEWER: 200})
CHECK_PERIOD = {"name": "2025-Q1", "period_start": "2025-01-01", "period_end": "2025-03-31", "opens_on": "2025-04-01",
                "due_on": "2025-05-01", "preview": "1"}
OWNER_ONLY_API = only({OWNER: 200}, anon=API_ANON, denied=404)  # others' notifications do not exist for them

ROWS: dict[str, list[Case]] = {
    # Pages
    "reviews:mine": [Case(PAGE_READ), Case(PAGE_READ, query="_export=csv")],
    "reviews:queue": [Case(REVIEWER_ONLY), Case(REVIEWER_ONLY, query="_export=csv")],
    "reviews:report_detail": [Case(PAGE_READ, obj="report"), Case(PAGE_READ, obj="submitted_report")],
    "reviews:report_edit": [Case(OWN_EDIT, obj="report"),
                            Case(only({OWNER: 302, ADMIN: 302}), method="post", obj="report")],
    "reviews:report_verdict": [Case(only({REVIEWER: 400}), method="post", obj="submitted_report")],
    "reviews:report_reopen": [Case(only({REVIEWER: 400}), method="post", obj="submitted_report")],
    "reviews:attachment_download": [Case(PAGE_READ, obj="attachment")],
    "reviews:cycle_list": [Case(PAGE_READ), Case(PAGE_READ, query="_export=csv")],
    "reviews:cycle_create": [Case(only({REVIEWER: 200, ADMIN: 200})),
                             Case(only({REVIEWER: 400, ADMIN: 400}), method="post"),
                             # "Check this period": what opening it means, nothing opened
                             Case(only({REVIEWER: 200, ADMIN: 200}), method="post", data=CHECK_PERIOD)],
    "reviews:cycle_detail": [Case(PAGE_READ, obj="review_cycle"),
                             Case(PAGE_READ, obj="review_cycle", query="_export=csv")],
    "reviews:cycle_dates": [Case(only({REVIEWER: 200, ADMIN: 200}), obj="review_cycle"),
                            Case(only({REVIEWER: 400, ADMIN: 400}), method="post", obj="review_cycle")],
    "reviews:cycle_close": [Case(only({REVIEWER: 200, ADMIN: 200}), obj="review_cycle"),
                            Case(only({REVIEWER: 302, ADMIN: 302}), method="post", obj="review_cycle",
                                 data={"confirm": "yes"})],
    "reviews:notification_list": [Case(PAGE_READ), Case(PAGE_READ, query="_export=csv")],
    "reviews:notifications_read": [Case(everyone(302), method="post")],
    # API
    "reviews_api:cycle-list": [Case(API_READ),
                               Case(only({REVIEWER: 400, ADMIN: 400}, anon=API_ANON), method="post")],
    "reviews_api:cycle-detail": [Case(API_READ, obj="review_cycle"),
                                 Case(only({REVIEWER: 200, ADMIN: 200}, anon=API_ANON), method="patch",
                                      obj="review_cycle"),
                                 # Dates change by PATCH only: PUT is not offered, to anyone logged in.
                                 Case(everyone(405, anon=API_ANON), method="put", obj="review_cycle")],
    "reviews_api:cycle-close": [Case(only({REVIEWER: 200, ADMIN: 200}, anon=API_ANON), method="post",
                                     obj="review_cycle")],
    "reviews_api:report-list": [Case(API_READ)],
    # PATCH (owner and admin 200, others 403) is in test_api.py: the matrix sends JSON only to "api:" names yet.
    "reviews_api:report-detail": [Case(API_READ, obj="report"), Case(API_OWN_PATCH, method="patch", obj="report"),
                                  # Reports are changed by PATCH only: PUT is not offered, to anyone logged in.
                                  Case(everyone(405, anon=API_ANON), method="put", obj="report")],
    "reviews_api:report-submit": [Case(only({OWNER: 400, ADMIN: 400}, anon=API_ANON), method="post", obj="report")],
    "reviews_api:report-reopen": [Case(only({REVIEWER: 400}, anon=API_ANON), method="post", obj="submitted_report")],
    "reviews_api:report-verdict": [Case(only({REVIEWER: 400}, anon=API_ANON), method="post",
                                        obj="submitted_report")],
    # Evidence: owners (to their own drafts, decided on the report: test_api.py) and administrators add to drafts,
    # an empty POST refused by validation (400); the owner and an administrator remove from the owner's draft.
    "reviews_api:attachment-list": [Case(API_READ),
                                    Case(only({OWNER: 400, OWNER_OTHER: 400, ADMIN: 400}, anon=API_ANON),
                                         method="post")],
    "reviews_api:attachment-detail": [Case(API_READ, obj="attachment"),
                                      Case(only({OWNER: 204, ADMIN: 204}, anon=API_ANON), method="delete",
                                           obj="attachment")],
    "reviews_api:notification-list": [Case(API_READ)],
    "reviews_api:notification-detail": [Case(OWNER_ONLY_API, obj="notification")],
    "reviews_api:notification-read": [Case(OWNER_ONLY_API, method="post", obj="notification")],
    "reviews_api:notification-read-all": [Case(everyone(200, anon=API_ANON), method="post")],
}


def build_objects(objects: dict, users: dict) -> dict:
    from portfolio.choices import Stage
    from reviews.choices import ReportStatus
    from reviews.models import Notification, ReportAttachment, ReviewCycle, ValueReport

    initiative = objects["own"]
    initiative.stage = Stage.PILOT
    initiative.save()
    cycle = ReviewCycle.objects.create(name="2026-Q3", period_start=date(2026, 7, 1), period_end=date(2026, 9, 30),
                                       opens_on=date(2026, 10, 1), due_on=date(2026, 10, 31))
    earlier = ReviewCycle.objects.create(name="2026-Q2", period_start=date(2026, 4, 1), period_end=date(2026, 6, 30),
                                         opens_on=date(2026, 7, 1), due_on=date(2026, 7, 31))
    report = ValueReport.objects.create(cycle=cycle, initiative=initiative)
    submitted = ValueReport.objects.create(cycle=earlier, initiative=initiative, status=ReportStatus.SUBMITTED,
                                           outcome_count=100, submitted_by=users[OWNER])
    path = "reviews/matrix/evidence.txt"
    if not default_storage.exists(path):
        default_storage.save(path, ContentFile(b"evidence"))
    attachment = ReportAttachment.objects.create(report=report, file=path, original_name="evidence.txt", size=8,
                                                 uploaded_by=users[OWNER])
    notification = Notification.objects.create(user=users[OWNER], message="Your value report is due")
    return {"report": report, "submitted_report": submitted, "review_cycle": cycle, "attachment": attachment,
            "notification": notification}
