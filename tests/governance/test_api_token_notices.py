"""A person is told, once, a week before a named API token of theirs stops working."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from governance.services import api_tokens_expiring_notify
from governance.tasks import api_tokens_expiring_notify_task
from portfolio.choices import NotificationEmail
from portfolio.models import ApiToken
from portfolio.services import api_token_issue, api_token_obtain, profile_notifications_set
from reviews.models import Notification
from tollgate.celery import app

pytestmark = pytest.mark.django_db


def test_people_are_told_once_a_week_before_a_named_token_expires(owner, reviewer,
                                                                   django_capture_on_commit_callbacks):
    soon, _ = api_token_issue(actor=owner, user=owner, name="Board pack script", days=7)
    later, _ = api_token_issue(actor=owner, user=owner, name="Spreadsheet", days=30)
    api_token_obtain(user=owner)  # lives a day: nobody needs telling
    theirs, _ = api_token_issue(actor=reviewer, user=reviewer, name="Queue export", days=7)
    with django_capture_on_commit_callbacks(execute=True):
        assert api_tokens_expiring_notify_task.apply().get() == 2
    (note,) = Notification.objects.filter(user=owner)
    assert f"Your API token Board pack script ({soon.shown_key}) stops working on" in note.message
    assert note.url == "/accounts/"
    assert Notification.objects.filter(user=reviewer).count() == 1
    assert sorted(m.to[0] for m in mail.outbox) == sorted([owner.email, reviewer.email])
    assert mail.outbox[0].subject == "Tollgate: an API token of yours expires soon"
    # Once per token: the next day's run tells nobody again; the 30-day token is told about in its last week.
    assert api_tokens_expiring_notify() == 0
    assert api_tokens_expiring_notify(now=timezone.now() + timedelta(days=24)) == 1
    assert ApiToken.objects.get(pk=later.pk).expiry_notice_sent_at is not None
    assert ApiToken.objects.get(pk=theirs.pk).expiry_notice_sent_at is not None
    schedule = {entry["task"] for entry in app.conf.beat_schedule.values()}
    assert "governance.tasks.api_tokens_expiring_notify_task" in schedule


def test_the_notice_follows_the_person_s_e_mail_choice_and_skips_expired_tokens(owner,
                                                                                 django_capture_on_commit_callbacks):
    profile_notifications_set(actor=owner, user=owner, email=NotificationEmail.OFF)
    api_token_issue(actor=owner, user=owner, name="cron", days=7)
    gone, _ = api_token_issue(actor=owner, user=owner, name="old", days=7)
    ApiToken.objects.filter(pk=gone.pk).update(expiry=timezone.now() - timedelta(hours=1))
    with django_capture_on_commit_callbacks(execute=True):
        assert api_tokens_expiring_notify() == 1
    assert not mail.outbox and Notification.objects.filter(user=owner).count() == 1
