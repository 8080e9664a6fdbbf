"""A person's own account page: what Tollgate knows about them, e-mailed notifications on or off, their API tokens."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from auditlog.models import LogEntry
from django.core import mail
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils import timezone

from governance.evidence import Notice
from portfolio.models import ApiToken
from portfolio.services import api_token_issue, api_token_revoke, profile_notifications_set
from reviews.models import Notification
from reviews.services import digest_due, notices_send, notification_digests_send
from tests.factories import InitiativeFactory

pytestmark = pytest.mark.django_db


def test_the_account_page_says_who_one_is(client, owner, other_owner, reviewer):
    owner.profile.delegates.add(other_owner)
    client.force_login(other_owner)
    page = client.get(reverse("account")).content.decode()
    assert 'id="account-link"' in page and other_owner.email in page
    assert "Initiative owner" in page
    acting_for = page.split('id="account-acting-for">', 1)[1].split("</dd>", 1)[0]
    assert owner.get_full_name() in acting_for
    named_on = InitiativeFactory(owner=reviewer, name="Contract review copilot")
    named_on.delegates.add(other_owner)
    delegated = client.get(reverse("account")).content.decode().split('id="account-delegated">', 1)[1]
    assert "Contract review copilot" in delegated.split("</dd>", 1)[0]
    client.force_login(owner)
    page = client.get(reverse("account")).content.decode()
    delegates = page.split('id="account-delegates">', 1)[1].split("</dd>", 1)[0]
    assert other_owner.get_full_name() in delegates


def test_a_person_creates_names_and_revokes_their_own_api_tokens(client, executive):
    client.force_login(executive)
    response = client.post(reverse("account_token"), {"name": "Board pack script", "days": "30"})
    token = ApiToken.objects.get(user=executive)
    key = response.content.decode().split('id="new-token">', 1)[1].split("<", 1)[0]
    assert response.status_code == 200 and response["Cache-Control"] == "no-store" and key.startswith("tg_")
    assert token.name == "Board pack script" and token.digest != key and key not in token.digest
    assert abs(token.expiry - timezone.now() - timedelta(days=30)) < timedelta(minutes=1)
    # Shown once: the account page lists the token by its name and first characters, never the key.
    page = client.get(reverse("account")).content.decode()
    assert key not in page and "Board pack script" in page and token.shown_key in page
    api = client.__class__()
    assert api.get("/api/initiatives/", HTTP_AUTHORIZATION=f"Token {key}").status_code == 200
    assert api.post("/api/initiatives/", {}, HTTP_AUTHORIZATION=f"Token {key}").status_code == 403
    # One token per script: a second one works beside the first; a name already taken is refused, naming it.
    second = client.post(reverse("account_token"), {"name": "Spreadsheet", "days": "90"})
    second_key = second.content.decode().split('id="new-token">', 1)[1].split("<", 1)[0]
    refused = client.post(reverse("account_token"), {"name": "Spreadsheet", "days": "30", "read_only": "on"})
    assert refused.status_code == 400
    assert "You already have a token named &#x27;Spreadsheet&#x27;" in refused.content.decode()
    assert 'value="Spreadsheet"' in refused.content.decode()  # the form keeps what was typed
    assert '<option value="30" selected>' in refused.content.decode()
    assert 'id="id_token_read_only" checked>' in refused.content.decode()
    assert ApiToken.objects.filter(user=executive).count() == 2
    response = client.post(reverse("account_token_revoke"), {"token": token.pk}, follow=True)
    assert f"Your API token Board pack script ({token.shown_key}) was revoked" in response.content.decode()
    assert api.get("/api/initiatives/", HTTP_AUTHORIZATION=f"Token {key}").status_code == 401
    assert api.get("/api/initiatives/", HTTP_AUTHORIZATION=f"Token {second_key}").status_code == 200
    rows = LogEntry.objects.get_for_object(executive).filter(additional_data__has_key="event").order_by("pk")
    assert [(r.additional_data["event"], r.actor, r.additional_data.get("source")) for r in rows] == [
        ("api_token_issued", executive, "account_page"), ("api_token_issued", executive, "account_page"),
        ("api_token_revoked", executive, None)]
    assert rows[0].changes == {"api_token": [None, f"Board pack script ({token.shown_key})"]}
    assert not any(k in f"{r.changes} {r.additional_data}" for r in LogEntry.objects.all() for k in (key, second_key))


def test_a_person_makes_a_read_only_token_for_a_spreadsheet(client, owner, initiative):
    client.force_login(owner)
    response = client.post(reverse("account_token"), {"name": "Spreadsheet", "days": "7", "read_only": "on"})
    key = response.content.decode().split('id="new-token">', 1)[1].split("<", 1)[0]
    assert ApiToken.objects.get(user=owner).read_only
    assert "<td>read</td>" in client.get(reverse("account")).content.decode()
    api = client.__class__()
    detail = reverse("api:initiative-detail", args=[initiative.pk])
    assert api.get(detail, HTTP_AUTHORIZATION=f"Token {key}").status_code == 200
    refused = api.patch(detail, '{"name": "x"}', content_type="application/json", HTTP_AUTHORIZATION=f"Token {key}")
    assert refused.status_code == 403 and "read-only" in refused.json()["detail"]


def test_a_token_form_with_a_bad_lifetime_or_no_name_says_so_and_issues_nothing(client, owner):
    client.force_login(owner)
    for data, message in [({"name": "", "days": "30"}, "Name the token"),
                          ({"name": "x", "days": "1000"}, "A token lasts 7, 30, 90, 365 days, not 1000."),
                          ({"name": "x", "days": "soon"}, "not &#x27;soon&#x27;")]:
        response = client.post(reverse("account_token"), data)
        assert response.status_code == 400 and message in response.content.decode()
    assert not ApiToken.objects.exists()


def test_nobody_revokes_someone_else_s_token_from_their_account_page(client, owner, other_owner):
    token, _key = api_token_issue(actor=owner, user=owner, name="mine", days=7)
    client.force_login(other_owner)
    response = client.post(reverse("account_token_revoke"), {"token": token.pk}, follow=True)
    assert "You have no such API token" in response.content.decode() and ApiToken.objects.filter(pk=token.pk).exists()


def test_nobody_issues_or_revokes_someone_else_s_token_but_an_administrator(owner, reviewer, admin_user):
    with pytest.raises(PermissionDenied):
        api_token_issue(actor=reviewer, user=owner, name="x", days=30)
    token, _key = api_token_issue(actor=owner, user=owner, name="x", days=30)
    with pytest.raises(PermissionDenied):
        api_token_revoke(actor=reviewer, token=token)
    api_token_revoke(actor=owner, token=token)
    assert not ApiToken.objects.exists()


def test_notifications_are_e_mailed_each_in_a_daily_digest_or_not_at_all(client, owner, other_owner, reviewer,
                                                                          django_capture_on_commit_callbacks):
    initiative = InitiativeFactory(owner=owner)
    people = (owner, other_owner, reviewer)

    def notify(message: str = "Approved") -> list[list[str]]:
        mail.outbox.clear()
        with django_capture_on_commit_callbacks(execute=True):  # e-mails go when the transaction commits
            notices_send(notices=[Notice(user_id=p.pk, email=p.email, message=message,
                                         url=initiative.get_absolute_url()) for p in people],
                         subject="Tollgate: approved")
        return sorted(m.to for m in mail.outbox)

    assert notify() == sorted([p.email] for p in people)
    with pytest.raises(PermissionDenied):
        profile_notifications_set(actor=other_owner, user=owner, email="off")
    client.force_login(owner)
    assert 'id="id_notification_email_each" checked' in client.get(reverse("account")).content.decode()
    response = client.post(reverse("account_notifications"), {"notification_email": "off"}, follow=True)
    assert "no longer e-mailed" in response.content.decode()
    owner.profile.refresh_from_db()
    assert owner.profile.notification_email == "off"
    entry = LogEntry.objects.get_for_object(owner.profile).latest("pk")
    assert entry.actor == owner and entry.changes_dict == {"notification_email": ["each", "off"]}
    client.force_login(reviewer)
    client.post(reverse("account_notifications"), {"notification_email": "daily"})
    refused = client.post(reverse("account_notifications"), {"notification_email": "hourly"}, follow=True)
    assert ("Choose “Each as it happens”, “One e-mail a day” or “Never: the Notifications page only”."
            in refused.content.decode())

    # Only the one who wants each e-mail gets it now; everyone has it in the app.
    assert notify("Verdict: scale") == [[other_owner.email]]
    assert Notification.objects.filter(message="Verdict: scale").count() == 3
    # The digest, once a day: the reviewer's lists what came since they chose it and is still unread.
    read = Notification.objects.create(user=reviewer, message="Already seen", read_at=timezone.now())
    assert read.pk
    mail.outbox.clear()
    seven = next_hour(7)  # the default hour
    assert notification_digests_send(now=seven - timedelta(hours=1)) == []  # not its hour yet
    assert notification_digests_send(now=seven) == [reviewer.email]
    (digest,) = mail.outbox
    assert digest.subject == "Tollgate: 1 notification since your last digest"
    assert "Verdict: scale" in digest.body and "Approved" not in digest.body and "Already seen" not in digest.body
    assert notification_digests_send(now=seven + timedelta(minutes=30)) == []  # once a day
    Notification.objects.create(user=reviewer, message="Signal raised", created_at=seven + timedelta(hours=1))
    assert notification_digests_send(now=seven + timedelta(hours=2)) == []  # tomorrow's, not now
    assert notification_digests_send(now=seven + timedelta(days=1)) == [reviewer.email]
    assert "Signal raised" in mail.outbox[-1].body and "Verdict: scale" not in mail.outbox[-1].body


def next_hour(hour: int) -> datetime:
    """The hourly job's run (`hour`:15, the server's time zone) of the next `hour` to begin from now."""
    at = timezone.localtime().replace(hour=hour, minute=15, second=0, microsecond=0)
    return at if at - timedelta(minutes=15) > timezone.now() else at + timedelta(days=1)


def test_a_person_chooses_the_hour_of_their_daily_e_mail(client, owner):
    client.force_login(owner)
    response = client.post(reverse("account_notifications"), {"notification_email": "daily", "digest_hour": "18"},
                           follow=True)
    assert "once a day, in one digest, at 18:00" in response.content.decode()
    assert '<option value="18" selected>18:00</option>' in response.content.decode()
    owner.profile.refresh_from_db()
    assert owner.profile.digest_hour == 18
    entry = LogEntry.objects.get_for_object(owner.profile).latest("pk")
    assert entry.actor == owner and entry.changes_dict["digest_hour"] == ["7", "18"]
    refused = client.post(reverse("account_notifications"), {"notification_email": "daily", "digest_hour": "24"},
                          follow=True)
    assert "The digest&#x27;s hour is a whole number from 0 to 23, not 24." in refused.content.decode()
    Notification.objects.create(user=owner, message="Approved", created_at=timezone.now() + timedelta(seconds=1))
    six_pm = next_hour(18)
    assert notification_digests_send(now=six_pm - timedelta(hours=1)) == []
    assert notification_digests_send(now=six_pm) == [owner.email]


def test_a_digest_is_due_once_its_hour_has_come_since_the_last_one():
    day = timezone.localtime().replace(year=2026, month=3, day=10, hour=0, minute=0, second=0, microsecond=0)
    at = day.replace(hour=18, minute=15)
    assert digest_due(hour=18, sent_at=None, now=at)
    assert digest_due(hour=18, sent_at=day - timedelta(hours=5, minutes=45), now=at)  # yesterday's 18:15
    assert not digest_due(hour=18, sent_at=at, now=at + timedelta(minutes=59))  # sent this hour
    assert not digest_due(hour=18, sent_at=day - timedelta(hours=5), now=day.replace(hour=17, minute=15))
    # A missed or refused run is caught up by the next one, later that day or the next morning.
    assert digest_due(hour=18, sent_at=day - timedelta(hours=5), now=day.replace(hour=23, minute=15))
    assert digest_due(hour=18, sent_at=day - timedelta(hours=5), now=day + timedelta(days=1, hours=3))


def test_a_digest_the_mail_server_refuses_is_sent_by_the_next_run(reviewer, settings):
    profile_notifications_set(actor=reviewer, user=reviewer, email="daily")
    Notification.objects.create(user=reviewer, message="Approved", created_at=timezone.now() + timedelta(seconds=1))
    settings.EMAIL_BACKEND = "tests.portfolio.test_passwords.RefusingBackend"
    seven = next_hour(7)
    with pytest.raises(ConnectionRefusedError):
        notification_digests_send(now=seven)
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert notification_digests_send(now=seven + timedelta(hours=1)) == [reviewer.email]


def test_the_digest_job_runs_every_hour():
    from tollgate.celery import app

    job = app.conf.beat_schedule["reviews-send-notification-digests"]
    assert job["task"] == "reviews.tasks.notification_digests_send"
    assert job["schedule"].hour == set(range(24)) and job["schedule"].minute == {15}  # each hour, for each's hour


def test_a_script_asks_who_it_runs_as(client, owner, api_client):
    token, key = api_token_issue(actor=owner, user=owner, name="Spreadsheet", days=7, read_only=True)
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    me = api_client.get(reverse("api_me")).json()
    assert me["username"] == owner.username and me["roles"] == ["owner"]
    assert me["token"] == {"name": "Spreadsheet", "key_starts": key[:8], "read_only": True,
                           "expiry": me["token"]["expiry"]} and me["token"]["expiry"]
    client.force_login(owner)
    assert client.get(reverse("api_me")).json()["token"] is None


def test_an_hour_that_is_not_a_whole_number_is_refused_not_ignored(client, owner):
    client.force_login(owner)
    for hour, shown in [("-1", "-1"), ("abc", "&#x27;abc&#x27;"), ("3.5", "&#x27;3.5&#x27;"), ("24", "24")]:
        page = client.post(reverse("account_notifications"), {"notification_email": "daily", "digest_hour": hour},
                           follow=True).content.decode()
        assert f"The digest&#x27;s hour is a whole number from 0 to 23, not {shown}." in page
    owner.profile.refresh_from_db()
    assert owner.profile.digest_hour == 7


def test_the_daily_e_mail_comes_at_the_person_s_hour_in_their_time_zone(client, owner):
    client.force_login(owner)
    response = client.post(reverse("account_notifications"), {"notification_email": "daily", "digest_hour": "8",
                                                               "time_zone": "America/New_York"}, follow=True)
    assert "at 08:00 (America/New_York)" in response.content.decode()
    assert '<option value="America/New_York" selected>' in response.content.decode()
    refused = client.post(reverse("account_notifications"), {"notification_email": "daily", "time_zone": "Mars/Base"},
                          follow=True)
    assert "&#x27;Mars/Base&#x27; is not a time zone" in refused.content.decode()
    owner.profile.refresh_from_db()
    assert owner.profile.time_zone == "America/New_York"
    # 08:00 in New York is 13:00 UTC in winter: not due at 08:15 UTC, due at 13:15 UTC.
    january = timezone.now().replace(year=2027, month=1, day=15, hour=8, minute=15, second=0, microsecond=0)
    sent = january.replace(day=14, hour=13)  # yesterday's, at 08:15 in New York
    assert not digest_due(hour=8, sent_at=sent, now=january, time_zone="America/New_York")
    assert digest_due(hour=8, sent_at=sent, now=january.replace(hour=13), time_zone="America/New_York")
    assert digest_due(hour=8, sent_at=sent, now=january.replace(hour=8), time_zone="")  # the server's (UTC)


def test_every_wrong_notification_setting_is_named_at_once_and_nothing_is_saved(client, owner):
    client.force_login(owner)
    page = client.post(reverse("account_notifications"), {"notification_email": "weekly", "digest_hour": "24",
                                                           "time_zone": "Mars/Base"}, follow=True).content.decode()
    for said in ("Choose “Each as it happens”, “One e-mail a day” or “Never: the Notifications page only”.",
                 "The digest&#x27;s hour is a whole number from 0 to 23, not 24.",
                 "&#x27;Mars/Base&#x27; is not a time zone"):
        assert said in page, said
    owner.profile.refresh_from_db()
    assert (owner.profile.notification_email, owner.profile.digest_hour, owner.profile.time_zone) == ("each", 7, "")
