"""Governance pages: status and effect, segregation at the page level, and constant query counts."""

from __future__ import annotations

import html
import io
import re
from csv import DictReader

import pytest
from auditlog.models import LogEntry
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from governance.models import IntakeScore
from governance.selectors import policy_value
from governance.services import initiative_transition, policy_set
from portfolio.choices import Stage
from portfolio.models import Initiative
from tests.factories import BusinessCaseFactory, InitiativeFactory, IntakeSubmissionFactory, KPIFactory, UserFactory
from tests.governance.conftest import score_all
from tollgate.roles import Role

pytestmark = pytest.mark.django_db


def score_post(criteria, value=4):
    data = {}
    for c in criteria:
        data[f"score_{c.pk}"] = str(value)
        data[f"comment_{c.pk}"] = f"ok {c.name}"
    return data


def test_owner_submits_from_the_transition_page(login, owner, ready, rubric):
    client = login(owner)
    url = reverse("governance:transition_submit", args=[ready.pk])
    page = client.get(url)
    assert page.status_code == 200 and "All conditions are met." in page.content.decode()
    response = client.post(url, {"reason": ""})
    assert response.status_code == 302 and response["Location"] == ready.get_absolute_url()
    assert Initiative.objects.get(pk=ready.pk).stage == Stage.IN_REVIEW
    said = html.unescape(client.get(ready.get_absolute_url()).content.decode())
    assert f"Submitted for review: “{ready.name}” is now in the In review stage." in said  # the stage's label


def test_guard_failures_are_shown_and_nothing_is_written(login, owner, initiative, rubric):
    client = login(owner)
    url = reverse("governance:transition_submit", args=[initiative.pk])
    assert "The initiative has no business case." in client.get(url).content.decode()
    count = LogEntry.objects.count()
    response = client.post(url, {"reason": ""})
    body = response.content.decode()
    assert response.status_code == 400 and "Nothing was changed." in body
    assert "At least one KPI with a baseline and a target is needed." in body
    assert Initiative.objects.get(pk=initiative.pk).stage == Stage.PROPOSED
    assert LogEntry.objects.count() == count


def test_reject_without_reason_is_a_form_error(login, reviewer, in_review):
    client = login(reviewer)
    response = client.post(reverse("governance:transition_reject", args=[in_review.pk]), {"reason": " "})
    assert response.status_code == 400 and "Give a written reason to reject." in response.content.decode()
    assert Initiative.objects.get(pk=in_review.pk).stage == Stage.IN_REVIEW
    response = client.post(reverse("governance:transition_reject", args=[in_review.pk]), {"reason": "Duplicate."})
    assert response.status_code == 302
    assert Initiative.objects.get(pk=in_review.pk).stage == Stage.REJECTED


def test_the_disabled_buttons_note_counts_the_unmet_conditions_listed_above(client, reviewer, in_review):
    """One condition is named beside the button; several are counted there and listed above the form (it read
    "Not yet: <the first> (and 1 more above)")."""
    client.force_login(reviewer)
    page = client.get(reverse("governance:transition_approve", args=[in_review.pk])).content.decode()
    problems = page.split('id="guard-problems"')[1].split("</ul>")[0].count("<li>")
    if problems > 1:
        assert f'id="transition-blocked">Not yet: {problems} conditions are not met (listed above).' in page
    else:
        assert 'id="transition-blocked">Not yet: Quorum not reached' in page
    assert "more above" not in page


def test_two_reviewers_score_and_one_approves(client, reviewer, second_reviewer, in_review, rubric):
    approve_url = reverse("governance:transition_approve", args=[in_review.pk])
    for who in (reviewer, second_reviewer):
        client.force_login(who)
        page = client.get(approve_url).content.decode()  # one score short of the quorum, then none given
        assert 'id="transition-submit" disabled' in page and 'id="transition-blocked">Not yet:' in page
        client.force_login(who)
        url = reverse("governance:score", args=[in_review.pk])
        response = client.post(url, score_post(rubric, 4))
        assert response.status_code == 302, response.content.decode()
    assert IntakeScore.objects.count() == 12
    page = client.get(reverse("governance:score", args=[in_review.pk])).content.decode()
    assert 'id="weighted-score">4.0<' in page and "2 of 2" in page
    ready = client.get(approve_url).content.decode()
    assert 'id="transition-submit">' in ready and "transition-blocked" not in ready
    response = client.post(approve_url, {"reason": "Solid case."})
    assert response.status_code == 302
    assert Initiative.objects.get(pk=in_review.pk).stage == Stage.APPROVED


def test_the_score_page_offers_the_decisions_that_follow_to_a_reviewer_only(login, reviewer, in_review, rubric):
    """Once scored, the reviewer's next step (approve, request changes, reject) was only on the initiative's page."""
    page = login(reviewer).get(reverse("governance:score", args=[in_review.pk])).content.decode()
    buttons = re.search(r'id="score-decisions">(.*?)</div>', page, re.S).group(1)
    for name in ("request_changes", "approve", "reject"):
        assert reverse(f"governance:transition_{name}", args=[in_review.pk]) in buttons
    assert "withdraw" not in buttons  # the owner's step, not the reviewer's


def test_an_incomplete_scoring_form_writes_nothing(login, reviewer, in_review, rubric):
    data = score_post(rubric[:-1])
    response = login(reviewer).post(reverse("governance:score", args=[in_review.pk]), data)
    assert response.status_code == 200 and "Nothing was saved" in response.content.decode()
    assert not IntakeScore.objects.exists()


def test_an_overlong_reason_or_comment_is_refused_on_the_pages_naming_the_limit(login, reviewer, in_review, rubric):
    """The pages took any length (the API stopped at 4,000): a 30,000-character reason went into the audit trail."""
    client = login(reviewer)
    data = score_post(rubric)
    data[f"comment_{rubric[1].pk}"] = "x" * 4001
    page = client.post(reverse("governance:score", args=[in_review.pk]), data).content.decode()
    assert "Nothing was saved" in page
    assert html.escape(f"“{rubric[1].name}”: keep the comment to 4000 characters (it has 4001).") in page
    assert not IntakeScore.objects.exists()
    url = reverse("governance:transition_request_changes", args=[in_review.pk])
    response = client.post(url, {"reason": "y" * 5001})
    assert response.status_code == 400
    assert "Keep the reason to 5000 characters (it has 5001)." in response.content.decode()
    assert Initiative.objects.get(pk=in_review.pk).stage == Stage.IN_REVIEW
    assert not LogEntry.objects.filter(object_id=in_review.pk, additional_data__event="transition",
                                       additional_data__transition="request_changes").exists()


def test_a_reviewer_who_owns_the_intake_is_told_why_not_to_ask_for_a_role(client, in_review, executive):
    owning_reviewer = UserFactory(role=Role.REVIEWER)
    in_review.owner = owning_reviewer
    in_review.save()
    client.force_login(owning_reviewer)
    page = client.get(reverse("governance:score", args=[in_review.pk]))
    assert page.status_code == 403
    assert "Your role allows this, but not on this one" in page.content.decode()
    assert "ask an administrator to give you the role" not in page.content.decode()
    client.force_login(executive)  # no role for it at all: the role is what is missing
    assert "ask an administrator to give you the role" in client.get(
        reverse("governance:score", args=[in_review.pk])).content.decode()


@pytest.mark.parametrize("who", ["owner", "executive", "admin_user"])
def test_owner_executive_and_admin_cannot_score_or_approve(request, client, in_review, rubric, who):
    client.force_login(request.getfixturevalue(who))
    assert client.get(reverse("governance:score", args=[in_review.pk])).status_code == 403
    assert client.post(reverse("governance:score", args=[in_review.pk]), score_post(rubric)).status_code == 403
    assert client.post(reverse("governance:transition_approve", args=[in_review.pk])).status_code == 403
    assert not IntakeScore.objects.exists()


def test_a_reviewer_who_is_delegate_cannot_score_on_the_page(client, in_review, rubric):
    delegate = UserFactory(role=Role.REVIEWER)
    in_review.delegates.add(delegate)
    client.force_login(delegate)
    assert client.post(reverse("governance:score", args=[in_review.pk]), score_post(rubric)).status_code == 403


# Reviewer queue ----------------------------------------------------------------------------------------------------


def test_queue_lists_intakes_awaiting_my_score_only(login, reviewer, second_reviewer, in_review, rubric):
    own = InitiativeFactory(owner=reviewer, stage=Stage.IN_REVIEW, name="My own intake")
    delegated = InitiativeFactory(stage=Stage.IN_REVIEW, name="Delegated to me", delegates=[reviewer])
    scored = InitiativeFactory(stage=Stage.IN_REVIEW, name="Already scored by me")
    IntakeSubmissionFactory(initiative=scored, round=1)
    score_all(reviewer, scored, rubric)
    score_all(second_reviewer, in_review, rubric)
    client = login(reviewer)
    body = client.get(reverse("governance:queue")).content.decode()
    assert in_review.name in body and reverse("governance:score", args=[in_review.pk]) in body
    for hidden in (own, delegated, scored):
        assert hidden.name not in body
    csv = client.get(reverse("governance:queue") + "?_export=csv").content.decode()
    assert in_review.name in csv and "Days waiting" in csv
    rows = list(DictReader(io.StringIO(csv)))
    submitted = next(row for row in rows if row["Initiative"] == in_review.name)["Submitted"]
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}( \d{2}:\d{2})?", submitted), submitted  # as printed, not ISO


def test_queue_query_count_is_constant(login, reviewer, rubric):
    client = login(reviewer)
    url = reverse("governance:queue")

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return len(captured)

    IntakeSubmissionFactory(initiative__stage=Stage.IN_REVIEW)
    few = queries()
    for _ in range(5):
        IntakeSubmissionFactory(initiative__stage=Stage.IN_REVIEW)
    assert queries() == few


# Audit trail -------------------------------------------------------------------------------------------------------


def test_audit_page_filters_and_exports(login, admin_user, owner, reviewer, in_review, rubric):
    policy_set(actor=admin_user, key="intake.quorum", value=3)
    client = login(admin_user)
    url = reverse("governance:audit")
    body = client.get(url, {"event": "transition"}).content.decode()
    assert "Transition: submit" in body and "Value: 2 → 3" not in body
    body = client.get(url, {"event": "policy_change"}).content.decode()
    assert "Value: 2 → 3" in body
    body = client.get(url, {"initiative": in_review.external_id}).content.decode()
    assert "Transition: submit" in body and "Value: 2 → 3" not in body
    body = client.get(url, {"actor": owner.pk}).content.decode()
    assert "Transition: submit" in body and "Value: 2 → 3" not in body
    assert "Transition: submit" not in client.get(url, {"since": "2999-01-01"}).content.decode()
    csv = client.get(url, {"_export": "csv", "event": "transition"}).content.decode()
    assert csv.splitlines()[0].startswith("Time,Actor,Object,Event,Changes,Reason")
    assert "Proposed → In review" in csv  # choices by their labels, as the History reads them


def test_the_audit_page_lists_changes_of_roles_and_tokens_under_their_own_events(login, admin_user, reviewer):
    from portfolio.services import api_token_issue, person_set_roles

    person_set_roles(user=reviewer, roles={Role.EXECUTIVE}, actor=admin_user, source="admin")
    api_token_issue(actor=reviewer, user=reviewer, name="Reviewer dashboard", days=30)
    client = login(admin_user)
    url = reverse("governance:audit")
    assert "Roles changed" in client.get(url, {"event": "roles_changed"}).content.decode()
    rows = client.get(url, {"_export": "csv", "event": "roles_changed"}).content.decode().splitlines()[1:]
    assert len(rows) == 1 and "Roles changed" in rows[0] and "Roles: CoE reviewer → Executive" in rows[0]
    rows = client.get(url, {"_export": "csv", "event": "api_token_issued"}).content.decode().splitlines()[1:]
    assert len(rows) == 1 and "API token issued" in rows[0] and str(reviewer) in rows[0]


def test_the_audit_page_lists_a_removal_of_login_history_under_people(login, admin_user):
    from axes.models import AccessLog

    from portfolio.selectors import login_history
    from portfolio.services import login_history_remove

    client = login(admin_user)  # the sign-in is a record of a login
    assert login_history_remove(actor=admin_user, records=login_history(AccessLog), source="admin") == 1
    rows = client.get(reverse("governance:audit"), {"_export": "csv", "record": "people",
                                                    "event": "login_history_removed"}).content.decode().splitlines()
    assert len(rows) == 2 and "Login history removed" in rows[1] and "1 records of logins" in rows[1]
    assert "Records: 1 → 0" in rows[1] and "Records of logins from" in rows[1]
    page = client.get(reverse("governance:audit"), {"record": "people"})
    assert page.status_code == 200 and "Access log: 1 records of logins" in page.content.decode()


def test_the_audit_page_filters_by_kind_of_record(login, admin_user, reviewer, in_review):
    from portfolio.services import person_set_roles

    person_set_roles(user=reviewer, roles={Role.EXECUTIVE}, actor=admin_user, source="admin")
    client = login(admin_user)
    url = reverse("governance:audit")
    people = client.get(url, {"_export": "csv", "record": "people"}).content.decode()
    assert "Roles changed" in people and "Transition: submit" not in people
    initiatives = client.get(url, {"_export": "csv", "record": "initiatives"}).content.decode()
    assert "Transition: submit" in initiatives and "Roles changed" not in initiatives


def test_every_kind_of_record_in_the_demo_s_trail_has_its_record_filter(demo):
    from auditlog.registry import auditlog
    from django.apps import apps

    from governance.selectors import AUDIT_RECORDS

    labels = {label for _, models in AUDIT_RECORDS.values() for label in models}
    assert all(apps.get_model(label) for label in labels)  # each names a model that exists
    in_trail = {f"{app}.{model}" for app, model in LogEntry.objects.values_list(
        "content_type__app_label", "content_type__model").distinct()}
    registered = {model._meta.label_lower for model in auditlog.get_models()}
    assert in_trail - labels == set() and registered - labels == set()
    assert len(in_trail) >= 15  # the demo's trail is read at all


def test_audit_list_query_count_is_constant(login, admin_user, reviewer):
    client = login(admin_user)
    url = reverse("governance:audit")

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return len(captured)

    policy_set(actor=admin_user, key="intake.quorum", value=3)
    InitiativeFactory()  # the kinds of records the rows name (one query each for the page), present from the start
    few = queries()
    for value in range(4, 9):
        policy_set(actor=admin_user, key="intake.quorum", value=value)
        InitiativeFactory()
    assert queries() == few


def test_the_audit_trail_and_its_csv_name_related_records_in_one_query_per_model(login, admin_user):
    """Owners and departments by name, not id ("owner: 43 → 46"), read once for the page whatever its rows name."""
    from portfolio.services.initiatives import initiative_update

    client = login(admin_user)
    url = reverse("governance:audit")

    def changed(count: int) -> list[Initiative]:
        initiatives = []
        for _ in range(count):
            initiative = InitiativeFactory()
            initiative_update(actor=admin_user, initiative=initiative, owner=UserFactory(role=Role.OWNER))
            initiatives.append(initiative)
        return initiatives

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url, {"event": "field_change"}).status_code == 200
        return len(captured)

    (first,) = changed(1)
    few = queries()
    more = changed(4)
    assert queries() == few
    body = html.unescape(client.get(url).content.decode())
    csv = client.get(url, {"_export": "csv"}).content.decode()
    for initiative in [first, *more]:
        initiative.refresh_from_db()
        assert f"→ {initiative.owner.get_full_name()}" in body and f"→ {initiative.owner.get_full_name()}" in csv
    assert not re.search(r"Owner: \d+ → \d+", body + csv)


def test_the_audit_csv_names_the_records_of_rows_past_the_first_page(login, admin_user, owner):
    """The export's table is paginated like the page (50 rows): names were read for those alone, so every older row
    named an existing department "#10 (deleted)". One that is truly gone still says so."""
    from portfolio.services.people import profile_update
    from tests.factories import DepartmentFactory
    from tollgate.audit import audit_events

    legal, gone = DepartmentFactory(name="Legal"), DepartmentFactory(name="Closed unit")
    profile_update(actor=admin_user, user=owner, department=gone, title="", delegates=[])
    profile_update(actor=admin_user, user=owner, department=legal, title="", delegates=[])
    gone_pk = gone.pk
    gone.delete()
    audit_events([admin_user] * 60, actor=admin_user, event="password_changed")  # newer rows fill the first page
    client = login(admin_user)
    with CaptureQueriesContext(connection) as captured:
        rows = list(DictReader(io.StringIO(client.get(reverse("governance:audit"), {"_export": "csv"}).content
                                           .decode())))
    changes = [row["Changes"] for row in rows if row["Object"].startswith("Profile")]
    assert f"Department: #{gone_pk} (deleted) → Legal" in changes
    assert f"Department: — → #{gone_pk} (deleted)" in changes
    assert len(captured) < 20  # the names of every row in one query per model, not one per row


def test_the_demo_s_audit_csv_names_no_existing_record_as_deleted(demo, client):
    """The demo's CSV read 1,233 cells such as every allocation rule's "initiative: — → #32 (deleted)" while the
    page named them: a "(deleted)" now names only an id no record of that kind has."""
    from portfolio.models import Department

    client.force_login(get_user_model().objects.get(username="executive"))
    with CaptureQueriesContext(connection) as captured:
        rows = list(DictReader(io.StringIO(client.get(reverse("governance:audit"), {"_export": "csv"}).content
                                           .decode())))
    assert len(rows) > 50  # past the first page
    # One query per model named, whatever their own text names: a value report ("initiative · cycle") was read with
    # two more queries each (349 queries for the demo's trail).
    assert len(captured) < 20
    existing = {"Initiative": set(Initiative.objects.values_list("pk", flat=True)),
                "Department": set(Department.objects.values_list("pk", flat=True))}
    deleted = re.compile(r"(Initiative|Department): [^;]*?#(\d+) \(deleted\)")
    named_as_deleted = [(label, int(pk)) for row in rows for label, pk in deleted.findall(row["Changes"])]
    assert [(label, pk) for label, pk in named_as_deleted if pk in existing[label]] == []
    rules = [row["Changes"] for row in rows if row["Object"].startswith("Allocation rule")]
    assert rules and any("Initiative: — → " in text and "(deleted)" not in text for text in rules)


# Policies and rubric -----------------------------------------------------------------------------------------------


def test_policy_page_and_edit(login, admin_user):
    client = login(admin_user)
    body = client.get(reverse("governance:policy_list")).content.decode()
    assert "Reviewer quorum" in body and reverse("governance:policy_edit", args=["intake.quorum"]) in body
    url = reverse("governance:policy_edit", args=["intake.quorum"])
    response = client.post(url, {"value": "12"})
    assert response.status_code == 200 and "between 1 and 10" in response.content.decode()
    assert policy_value("intake.quorum") == 2
    response = client.post(url, {"value": "3"})
    assert response.status_code == 302 and policy_value("intake.quorum") == 3
    body = client.get(reverse("governance:policy_list")).content.decode()
    assert admin_user.get_full_name() in body
    assert "0 – 10,000,000" in body  # the self-hosting operating cost's range, as the form prints numbers
    export = client.get(reverse("governance:policy_list") + "?_export=csv").content.decode()
    assert "0 – 10000000" in export and "10,000,000" not in export
    assert client.get(reverse("governance:policy_edit", args=["nope"])).status_code == 404
    saved = client.post(reverse("governance:policy_edit", args=["intake.approval_score"]), {"value": "3.25"},
                        follow=True).content.decode()
    assert "Approval threshold is now 3.25." in saved  # as the list prints it, not 3.2500
    again = client.post(reverse("governance:policy_edit", args=["intake.approval_score"]), {"value": "3.250"},
                        follow=True).content.decode()
    assert "Approval threshold is unchanged: it is already 3.25." in again and "is now" not in again
    assert LogEntry.objects.filter(additional_data__event="policy_change").count() == 2


def test_the_policy_page_refuses_a_second_reminder_before_the_first(login, admin_user):
    url = reverse("governance:policy_edit", args=["reviews.second_reminder_days"])
    response = login(admin_user).post(url, {"value": "30"})
    assert response.status_code == 200 and policy_value("reviews.second_reminder_days") == 3
    assert "must be less than the first reminder (14 days before due)" in response.content.decode()


def test_policy_page_has_no_edit_links_for_others(login, reviewer):
    body = login(reviewer).get(reverse("governance:policy_list")).content.decode()
    assert "Reviewer quorum" in body and "/edit/" not in body


def test_rubric_page_lists_the_default_rubric(login, owner, rubric):
    body = login(owner).get(reverse("governance:rubric")).content.decode()
    assert "Strategic fit" in body and "25%" in body and "Edit in admin" not in body


# Panel on the initiative page --------------------------------------------------------------------------------------


def test_panel_shows_buttons_scores_and_history(client, owner, reviewer, second_reviewer, in_review, rubric):
    score_all(reviewer, in_review, rubric, 4)
    client.force_login(second_reviewer)
    body = client.get(in_review.get_absolute_url()).content.decode()
    assert reverse("governance:transition_approve", args=[in_review.pk]) in body
    assert reverse("governance:score", args=[in_review.pk]) in body
    assert 'id="weighted-score">4.0<' in body and "1 of 2" in body
    assert "Submitted for review" in body and "Intake scored (weighted 4.0)" in body
    client.force_login(owner)
    body = client.get(in_review.get_absolute_url()).content.decode()
    assert reverse("governance:transition_approve", args=[in_review.pk]) not in body
    assert reverse("governance:score", args=[in_review.pk]) not in body


def test_panel_history_is_in_the_business_words(client, owner, reviewer, in_review):
    initiative_transition(actor=reviewer, initiative=in_review, transition="request_changes", reason="More data.")
    client.force_login(owner)
    body = client.get(in_review.get_absolute_url()).content.decode()
    history = body[body.index('id="initiative-history"'):]
    history = history[:history.index("</table>")]
    assert "Changes requested" in history and "In review → Changes requested" in history and "More data." in history
    assert "Initiative registered" in history and f"Owner: {owner.get_full_name() or owner.get_username()}" in history
    assert re.search(r"<td>\d{4}-\d\d-\d\d \d\d:\d\d</td>", history)
    for internal in ("cost_records", "CostRecord", ".None", "Created at", "Updated at", "Transition: "):
        assert internal not in history


def test_panel_query_count_is_constant(client, owner, reviewer, second_reviewer, in_review, rubric):
    client.force_login(owner)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(in_review.get_absolute_url()).status_code == 200
        return len(captured)

    score_all(reviewer, in_review, rubric, 4)
    few = queries()
    score_all(second_reviewer, in_review, rubric, 3)
    KPIFactory(initiative=in_review, name="Second KPI")
    initiative_transition(actor=reviewer, initiative=in_review, transition="request_changes", reason="More data.")
    initiative_transition(actor=owner, initiative=in_review, transition="submit")
    assert queries() == few


def test_panel_on_a_terminal_stage_has_no_buttons(login, owner):
    killed = InitiativeFactory(owner=owner, stage=Stage.KILLED)
    BusinessCaseFactory(initiative=killed)
    body = login(owner).get(killed.get_absolute_url()).content.decode()
    assert 'id="transition-buttons"' not in body


def test_review_queue_also_counts_reports_awaiting_my_verdict(client, reviewer, other_owner):
    from reviews.choices import ReportStatus
    from tests.factories import InitiativeFactory, ValueReportFactory

    ValueReportFactory(initiative=InitiativeFactory(owner=other_owner, stage="pilot"), status=ReportStatus.SUBMITTED)
    client.force_login(reviewer)
    response = client.get("/governance/queue/")
    assert response.status_code == 200
    assert response.context["reports_waiting"] == 1
    assert "/reviews/queue/" in response.content.decode()


def test_owner_withdraws_from_the_initiative_page_and_the_round_is_shown_closed(login, owner, reviewer, in_review,
                                                                                 rubric):
    score_all(reviewer, in_review, rubric, 4)
    client = login(owner)
    page = client.get(in_review.get_absolute_url()).content.decode()
    withdraw_url = reverse("governance:transition_withdraw", args=[in_review.pk])
    assert withdraw_url in page and 'id="plan-locked-reason"' in page
    assert client.post(withdraw_url, {"reason": ""}).status_code == 400  # the reason is required
    response = client.post(withdraw_url, {"reason": "The expected volume was a guess."})
    assert response.status_code == 302
    page = client.get(in_review.get_absolute_url()).content.decode()
    assert Initiative.objects.get(pk=in_review.pk).stage == Stage.PROPOSED
    assert 'id="round-closed"' in page and "Resubmitting starts round 2" in page


def test_the_audit_page_names_a_backwards_date_range(login, admin_user):
    """From after To matched nothing and said "No audit entries match": it names the two dates instead (400)."""
    response = login(admin_user).get(reverse("governance:audit"), {"since": "2026-12-01", "until": "2026-11-01"})
    body = response.content.decode()
    assert response.status_code == 400
    assert "From (1 Dec 2026) is after To (1 Nov 2026)" in body
    assert "No audit entries match" not in body



def test_the_initiative_page_in_review_asks_each_rule_s_facts_once(login, reviewer, in_review):
    """The transitions' rules ask whether the reviewer wrote the open round: the round and its authors are read once
    with the page's initiative, not once per transition."""
    from django.contrib.contenttypes.models import ContentType

    client = login(reviewer)
    ContentType.objects.clear_cache()
    client.get(in_review.get_absolute_url())  # the first request of a process reads the content types once
    with CaptureQueriesContext(connection) as captured:
        body = client.get(in_review.get_absolute_url()).content.decode()
    sql = [query["sql"] for query in captured.captured_queries]
    assert [query for query in set(sql) if sql.count(query) > 1] == []
    assert sum('FROM "governance_intakesubmission"' in query for query in sql) == 1
    assert reverse("governance:transition_request_changes", args=[in_review.pk]) in body  # the reviewer may still act
