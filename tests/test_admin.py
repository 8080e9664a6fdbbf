"""Django admin: every portfolio model is registered and its pages open for administrators only."""

import hashlib
from html.parser import HTMLParser

import pytest
from auditlog.models import LogEntry
from auditlog.registry import auditlog
from django.apps import apps
from django.contrib import admin
from django.contrib.auth.models import Group
from django.urls import reverse

from portfolio.choices import ModelTier, Stage
from portfolio.models import AIModel, ApiToken, BusinessCase, Initiative, Vendor
from portfolio.services.people import integration_account_create
from tests.factories import BusinessCaseFactory, KPIFactory, LicencePoolFactory, UserFactory
from tollgate.roles import Role
from tollgate.ui.admin import ReadOnlyAdmin, ServiceAdmin

pytestmark = pytest.mark.django_db


def test_every_portfolio_model_is_in_the_admin():
    missing = [m.__name__ for m in apps.get_app_config("portfolio").get_models() if m not in admin.site._registry]
    assert not missing


@pytest.mark.parametrize("model", list(admin.site._registry), ids=lambda m: m._meta.label)
def test_admin_changelists_open_for_administrators(client, admin_user, initiative, model):
    BusinessCaseFactory(initiative=initiative)
    KPIFactory(initiative=initiative)
    LicencePoolFactory(initiative=initiative)
    client.force_login(admin_user)
    opts = model._meta
    assert client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")).status_code == 200
    first = model._default_manager.first()
    if first is not None:
        url = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[first.pk])
        assert client.get(url).status_code == 200


def test_initiative_stage_is_read_only_in_the_admin(client, admin_user, initiative):
    client.force_login(admin_user)
    response = client.get(reverse("admin:portfolio_initiative_change", args=[initiative.pk]))
    assert 'name="stage"' not in response.content.decode()


@pytest.mark.parametrize("role_user", ["owner", "reviewer", "executive"])
def test_admin_is_closed_to_other_roles(client, request, role_user):
    client.force_login(request.getfixturevalue(role_user))
    response = client.get(reverse("admin:portfolio_initiative_changelist"))
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_the_admin_writes_the_plan_through_the_services_and_their_locks(client, admin_user, initiative):
    case = BusinessCaseFactory(initiative=initiative)
    Initiative.objects.filter(pk=initiative.pk).update(stage=Stage.IN_REVIEW)
    client.force_login(admin_user)
    url = reverse("admin:portfolio_businesscase_change", args=[case.pk])
    form = client.get(url).context["adminform"].form
    data = {name: ("" if value is None else value) for name, value in form.initial.items() if name in form.fields}
    data["expected_monthly_value"] = "99999999"
    response = client.post(url, data)
    assert response.status_code == 200
    assert "cannot change while it is in review" in response.content.decode()
    assert BusinessCase.objects.get(pk=case.pk).expected_monthly_value != 99999999

    Initiative.objects.filter(pk=initiative.pk).update(stage=Stage.KILLED)
    response = client.post(reverse("admin:portfolio_kpi_add"), {
        "initiative": initiative.pk, "name": "Late KPI", "unit": "", "kind": "count", "baseline": "1", "target": "2",
        "direction": "increase", "value_per_unit": ""})
    assert response.status_code == 200 and "an ended initiative is read-only" in response.content.decode()
    assert not initiative.kpis.exists()
    page = client.get(reverse("admin:portfolio_initiative_change", args=[initiative.pk])).content.decode()
    assert 'name="external_id"' not in page  # the inventory's key, given once


def test_the_admin_registers_and_edits_initiatives_through_the_services(client, admin_user, owner, initiative):
    client.force_login(admin_user)
    page = client.get(reverse("admin:portfolio_initiative_add"))
    inlines = {}
    for formset in page.context["inline_admin_formsets"]:
        prefix = formset.formset.prefix
        inlines.update({f"{prefix}-TOTAL_FORMS": "0", f"{prefix}-INITIAL_FORMS": "0"})
    data = {"external_id": "ADM-1", "name": "From the admin", "description": "", "category": "other",
            "department": initiative.department.pk, "cost_center": "", "owner": owner.pk, "start_date": "",
            "tags": "[]", "declared_monthly_cost": "10", **inlines}
    response = client.post(reverse("admin:portfolio_initiative_add"), data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    created = Initiative.objects.get(external_id="ADM-1")
    assert (created.stage, created.owner, created.declared_monthly_cost) == (Stage.PROPOSED, owner, 10)

    Initiative.objects.filter(pk=created.pk).update(stage=Stage.REJECTED)
    change = client.post(reverse("admin:portfolio_initiative_change", args=[created.pk]),
                         {**data, "name": "Renamed after rejection"})
    assert change.status_code == 200 and "an ended initiative is read-only" in change.content.decode()
    assert Initiative.objects.get(pk=created.pk).name == "From the admin"
    Initiative.objects.filter(pk=created.pk).update(stage=Stage.PROPOSED)
    change = client.post(reverse("admin:portfolio_initiative_change", args=[created.pk]),
                         {**data, "name": "Renamed by the admin"})
    assert change.status_code == 302
    assert Initiative.objects.get(pk=created.pk).name == "Renamed by the admin"


def test_a_vendor_website_typed_without_a_scheme_is_taken_as_https(client, admin_user):
    client.force_login(admin_user)
    response = client.post(reverse("admin:portfolio_vendor_add"), {"name": "Acme AI", "website": "acme.example"})
    assert response.status_code == 302
    assert Vendor.objects.get(name="Acme AI").website == "https://acme.example"


# Admin pages that write without a service and without field history, each for a reason of its own.
NOT_AUDITED = {
    "axes.AccessAttempt": "django-axes' own record of failed logins; deleting one unlocks an account, through "
                          "login_lock_clear, which writes an explicit row",
    "axes.AccessLog": "django-axes' own record of logins; deleting some goes through login_history_remove, which "
                      "writes an explicit row",
    "axes.AccessFailureLog": "django-axes' own record of failed logins; deleting some goes through "
                             "login_history_remove, which writes an explicit row",
}


def test_every_model_the_admin_can_change_is_written_by_its_services_or_kept_as_field_history():
    silent = [model._meta.label for model, model_admin in admin.site._registry.items()
              if not isinstance(model_admin, ReadOnlyAdmin | ServiceAdmin)
              and not auditlog.contains(model) and model._meta.label not in NOT_AUDITED]
    assert not silent


class _FormFields(HTMLParser):
    """What a browser would post from the admin's change form: its inputs, ticked boxes and selected options."""

    def __init__(self) -> None:
        super().__init__()
        self.data: dict[str, list[str]] = {}
        self._select: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list) -> None:
        a = dict(attrs)
        name = a.get("name")
        if tag == "input" and name and a.get("type") not in ("submit", "button", "file"):
            if a.get("type") in ("checkbox", "radio") and "checked" not in a:
                return
            self.data.setdefault(name, []).append(a.get("value") or ("on" if a.get("type") == "checkbox" else ""))
        elif tag == "select" and name:
            self._select = name
            self.data.setdefault(name, [])
        elif tag == "option" and self._select and "selected" in a:
            self.data[self._select].append(a.get("value") or "")
        elif tag == "textarea" and name:
            self._textarea = name
            self.data[name] = [""]

    def handle_data(self, data: str) -> None:
        if self._textarea:
            self.data[self._textarea][0] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None
        elif tag == "textarea" and self._textarea:
            value = self.data[self._textarea][0]  # a browser drops the newline that opens a textarea's text
            self.data[self._textarea][0] = value[1:] if value.startswith("\n") else value
            self._textarea = None


def change_form(client, url: str) -> dict[str, list[str]]:
    parser = _FormFields()
    parser.feed(client.get(url).content.decode())
    return {name: values for name, values in parser.data.items() if name != "csrfmiddlewaretoken"}


def test_roles_given_in_the_admin_go_through_their_service_into_the_audit_trail(client, admin_user, owner):
    client.force_login(admin_user)
    url = reverse("admin:auth_user_change", args=[owner.pk])
    data = change_form(client, url)
    assert "user_permissions" not in data  # roles are declared once, in tollgate.roles
    data["groups"] = [str(Group.objects.get(name=Role.ADMIN.value).pk)]
    response = client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    owner.refresh_from_db()
    assert set(owner.groups.values_list("name", flat=True)) == {Role.ADMIN.value}
    assert owner.is_staff  # staff status follows the administrator role
    entry = LogEntry.objects.get_for_object(owner).get(additional_data__event="roles_changed")
    assert entry.actor == admin_user and entry.additional_data["source"] == "admin"
    assert entry.changes_dict == {"roles": [[Role.OWNER.value], [Role.ADMIN.value]], "is_staff": [False, True]}


def test_the_admin_grants_no_superuser_or_staff_status_and_takes_superuser_status_away_as_a_change_of_roles(
        client, admin_user, owner):
    """The administrator role is given through person_set_roles (a "Roles changed" row) only: ticking "Superuser
    status" here would make an administrator the trail's roles_changed events never show."""
    client.force_login(admin_user)
    url = reverse("admin:auth_user_change", args=[owner.pk])
    data = change_form(client, url)
    assert "is_superuser" not in data and "is_staff" not in data and "groups" in data
    before = LogEntry.objects.count()
    response = client.post(url, {**data, "is_superuser": ["on"], "is_staff": ["on"]})
    assert response.status_code == 302, response.context["adminform"].form.errors
    owner.refresh_from_db()
    assert not owner.is_superuser and not owner.is_staff
    assert LogEntry.objects.count() == before  # nothing changed, nothing written
    # A superuser's status may be taken away: their roles change, so it is a "Roles changed" row.
    root = UserFactory(username="root@example.com", first_name="Root", last_name="User", role=Role.OWNER,
                       is_superuser=True, is_staff=True)
    url = reverse("admin:auth_user_change", args=[root.pk])
    data = change_form(client, url)
    assert data.pop("is_superuser") == ["on"] and "is_staff" not in data
    before = LogEntry.objects.count()
    response = client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    root.refresh_from_db()
    assert not root.is_superuser and not root.is_staff
    entry = LogEntry.objects.get_for_object(root).get(additional_data__event="roles_changed")
    assert entry.actor == admin_user and entry.additional_data["source"] == "admin"
    assert entry.changes_dict == {"roles": [[Role.ADMIN.value, Role.OWNER.value], [Role.OWNER.value]],
                                  "is_superuser": [True, False], "is_staff": [True, False]}
    assert LogEntry.objects.count() == before + 1


def test_deactivating_an_account_in_the_admin_is_in_the_audit_trail(client, admin_user, owner):
    client.force_login(admin_user)
    url = reverse("admin:auth_user_change", args=[owner.pk])
    data = change_form(client, url)
    del data["is_active"]  # the box unticked
    data["first_name"] = ["Olive"]
    assert client.post(url, data).status_code == 302
    owner.refresh_from_db()
    assert not owner.is_active and owner.first_name == "Olive"
    updates = LogEntry.objects.get_for_object(owner).filter(action=LogEntry.Action.UPDATE).order_by("pk")
    assert [(e.actor, (e.additional_data or {}).get("event"), e.changes_dict) for e in updates] == [
        (admin_user, None, {"first_name": [updates[0].changes_dict["first_name"][0], "Olive"]}),
        (admin_user, "person_deactivated", {"is_active": [True, False]}),
    ]
    data["is_active"] = ["on"]  # switched on again, through its service too
    assert client.post(url, data).status_code == 302
    owner.refresh_from_db()
    assert owner.is_active
    last = updates.last()
    assert (last.actor, last.additional_data["event"], last.changes_dict) == (
        admin_user, "person_reactivated", {"is_active": [False, True]})
    assert {row.additional_data["source"] for row in updates if row.additional_data} == {"admin"}


def test_an_administrator_cannot_lock_themselves_out_in_the_admin(client, admin_user):
    """As on the People page: the form names the field, and nothing is saved."""
    client.force_login(admin_user)
    url = reverse("admin:auth_user_change", args=[admin_user.pk])
    data = change_form(client, url)
    del data["is_active"]
    data["groups"] = [str(Group.objects.get(name=Role.REVIEWER.value).pk)]
    data["first_name"] = ["Changed"]
    before = LogEntry.objects.count()
    response = client.post(url, data)
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "cannot deactivate your own account" in str(errors["is_active"])
    assert "cannot take away your own administrator role" in str(errors["groups"])
    admin_user.refresh_from_db()
    assert admin_user.is_active and admin_user.first_name != "Changed"
    assert set(admin_user.groups.values_list("name", flat=True)) == {Role.ADMIN.value}
    assert LogEntry.objects.count() == before
    # Nor does an administrator give themselves another role beside theirs (a CoE reviewer's scoring of what they
    # administer): another administrator does.
    data = change_form(client, url)
    data["groups"] = [str(Group.objects.get(name=name).pk) for name in (Role.ADMIN.value, Role.REVIEWER.value)]
    response = client.post(url, data)
    assert response.status_code == 200
    assert "cannot give yourself a role (CoE reviewer)" in str(response.context["adminform"].form.errors["groups"])
    assert set(admin_user.groups.values_list("name", flat=True)) == {Role.ADMIN.value}
    client.force_login(UserFactory(role=Role.ADMIN))
    assert client.post(url, data).status_code == 302
    assert set(admin_user.groups.values_list("name", flat=True)) == {Role.ADMIN.value, Role.REVIEWER.value}


def test_the_admin_refuses_taking_away_every_role_of_an_active_person(client, admin_user, owner):
    """As on the People page and the API: one message on the groups, nothing saved; someone deactivated in the same
    save may keep none, and someone reactivated with a role in one save is given the role first."""
    from portfolio.services.people import NO_ROLE_LEFT

    client.force_login(admin_user)
    url = reverse("admin:auth_user_change", args=[owner.pk])
    data = change_form(client, url)
    data["groups"] = []
    data["first_name"] = ["Changed"]
    response = client.post(url, data)
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["groups"] == [NO_ROLE_LEFT]
    owner.refresh_from_db()
    assert set(owner.groups.values_list("name", flat=True)) == {Role.OWNER.value} and owner.first_name != "Changed"

    del data["is_active"]  # deactivated in the same save: no role is fine
    assert client.post(url, data).status_code == 302
    owner.refresh_from_db()
    assert not owner.is_active and not owner.groups.exists()

    data = change_form(client, url)
    data["is_active"] = ["on"]
    refused = client.post(url, data)  # turned back on without a role
    assert refused.context["adminform"].form.errors["groups"] == [NO_ROLE_LEFT]
    data["groups"] = [str(Group.objects.get(name=Role.REVIEWER.value).pk)]
    assert client.post(url, data).status_code == 302
    owner.refresh_from_db()
    assert owner.is_active and set(owner.groups.values_list("name", flat=True)) == {Role.REVIEWER.value}
    events = [row.additional_data["event"] for row in LogEntry.objects.get_for_object(owner)
              .filter(additional_data__has_key="event").order_by("pk")]
    assert events[-2:] == ["roles_changed", "person_reactivated"]


def test_the_admin_s_profiles_keep_the_delegate_rules_of_the_people_page(client, admin_user, owner, other_owner):
    """Saved through profile_update: nobody is their own delegate, someone who left is not newly named one, and the
    deactivation's time is not edited; the user page shows the profile without editing it."""
    left = UserFactory(username="left@example.com", first_name="Qa", last_name="Tester", is_active=False)
    client.force_login(admin_user)
    url = reverse("admin:portfolio_profile_change", args=[owner.profile.pk])
    data = change_form(client, url)
    assert "deactivated_at" not in data and "user" not in data
    before = LogEntry.objects.count()
    for delegates, message in [([owner.pk], f"{owner.get_full_name()} cannot be their own delegate."),
                               ([left.pk], "Qa Tester cannot be named a delegate: their account is deactivated.")]:
        refused = client.post(url, {**data, "delegates": delegates, "deactivated_at_0": "2026-01-01"})
        assert refused.status_code == 200
        assert refused.context["adminform"].form.errors["delegates"] == [message]
    assert not owner.profile.delegates.exists() and LogEntry.objects.count() == before
    owner.profile.refresh_from_db()
    assert owner.profile.deactivated_at is None
    person = change_form(client, reverse("admin:auth_user_change", args=[owner.pk]))
    assert not {"profile-0-delegates", "profile-0-department", "profile-0-title"} & set(person)


def test_a_person_s_delegates_and_the_model_catalogue_edited_in_the_admin_are_field_history(
        client, admin_user, owner, other_owner):
    client.force_login(admin_user)
    response = client.post(reverse("admin:portfolio_profile_change", args=[owner.profile.pk]),
                           {"user": owner.pk, "department": "", "title": "", "delegates": [other_owner.pk],
                            "notification_email": "each", "digest_hour": 7})
    assert response.status_code == 302
    (added,) = [e for e in LogEntry.objects.get_for_object(owner.profile) if "delegates" in e.changes_dict]
    assert added.actor == admin_user
    assert added.changes_dict["delegates"]["objects"] == [str(other_owner)]

    vendor = Vendor.objects.create(name="Northwind AI")
    large = AIModel.objects.create(name="nw-large", provider=vendor, tier=ModelTier.FRONTIER)
    small = AIModel.objects.create(name="nw-small", provider=vendor, tier=ModelTier.SMALL)
    url = reverse("admin:portfolio_aimodel_change", args=[large.pk])
    data = change_form(client, url)
    data["substitute"] = [str(small.pk)]
    assert client.post(url, data).status_code == 302
    # Through ai_model_save, as on the Models page: a substitute decision under its own event.
    entry = LogEntry.objects.get_for_object(large).get(action=LogEntry.Action.UPDATE)
    assert entry.actor == admin_user and entry.changes_dict["substitute"] == [None, "nw-small"]
    assert entry.additional_data["event"] == "ai_model_substitute_set"


def test_vendors_and_models_are_written_through_their_services_in_the_django_admin(client, admin_user):
    client.force_login(admin_user)
    response = client.post(reverse("admin:portfolio_vendor_add"), {"name": "  Northwind AI ", "website": ""})
    assert response.status_code == 302
    vendor = Vendor.objects.get()
    assert vendor.name == "Northwind AI"  # stripped by vendor_save, as on the page and the API
    assert LogEntry.objects.get_for_object(vendor).get().actor == admin_user
    big = AIModel.objects.create(name="nw-large", provider=vendor, tier=ModelTier.FRONTIER)
    mid = AIModel.objects.create(name="nw-mid", provider=vendor, tier=ModelTier.MID)
    url = reverse("admin:portfolio_aimodel_change", args=[big.pk])
    # A substitute judged against the tier given with it (ai_model_save): refused on its field, nothing written.
    data = {**change_form(client, url), "tier": [ModelTier.MID], "substitute": [str(mid.pk)]}
    refused = client.post(url, data)
    assert refused.status_code == 200 and "nw-mid:" in refused.content.decode()
    big.refresh_from_db()
    assert (big.tier, big.substitute) == (ModelTier.FRONTIER, None)


def test_api_tokens_are_issued_and_revoked_through_their_services_and_never_written_down(
        client, admin_user, reviewer):
    owner = integration_account_create(actor=admin_user, username="ci-exporter", name="CI exporter",
                                       roles={Role.EXECUTIVE})
    client.force_login(admin_user)
    add = reverse("admin:portfolio_apitoken_add")
    # A person who signs in issues their own keys: the administrator is refused on the form, nothing is issued.
    refused = client.post(add, {"user": reviewer.pk, "name": "Nightly export", "days": 30})
    message = (f"{reviewer.get_full_name()} is a person, not an integration account: only they can issue their own "
               "keys. Revoke theirs if needed.")
    assert refused.status_code == 200 and message.replace("'", "&#x27;") in refused.content.decode()
    assert not ApiToken.objects.exists()
    response = client.post(add, {"user": owner.pk, "name": "Nightly export", "days": 30})
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    token = ApiToken.objects.get(user=owner)
    # The key is shown once, on the answer to the form (not in a message a cookie may keep); only its digest is stored.
    key = response.content.decode().split('id="issued-key">', 1)[1].split("<", 1)[0]
    assert not any(key in str(m) for m in response.wsgi_request._messages) and key not in client.cookies.output()
    assert token.digest == hashlib.sha512(key.encode()).hexdigest() and token.name == "Nightly export"
    assert key not in client.get(reverse("admin:portfolio_apitoken_changelist")).content.decode()
    # The service's refusals come back on the form: a second token of the same name.
    again = client.post(add, {"user": owner.pk, "name": "Nightly export", "days": 30})
    assert again.status_code == 200 and "already has a token named" in again.content.decode()
    assert ApiToken.objects.filter(user=owner).count() == 1
    response = client.post(reverse("admin:portfolio_apitoken_delete", args=[token.pk]), {"post": "yes"})
    assert response.status_code == 302 and not ApiToken.objects.filter(user=owner).exists()
    events = [(e.additional_data["event"], e.actor) for e in
              LogEntry.objects.get_for_object(owner).filter(additional_data__event__startswith="api_token")
              .order_by("pk")]
    assert events == [("api_token_issued", admin_user), ("api_token_revoked", admin_user)]
    assert not any(key in f"{e.changes} {e.object_repr} {e.additional_data}" for e in LogEntry.objects.all())


def test_unlocking_an_account_in_the_admin_is_in_the_audit_trail(client, admin_user, owner):
    from axes.models import AccessAttempt

    def attempt(username: str) -> AccessAttempt:
        return AccessAttempt.objects.create(username=username, ip_address="203.0.113.9", user_agent="curl",
                                            http_accept="*/*", path_info="/accounts/login/", failures_since_start=5)

    client.force_login(admin_user)
    locked = attempt(owner.username)
    response = client.post(reverse("admin:axes_accessattempt_delete", args=[locked.pk]), {"post": "yes"})
    assert response.status_code == 302 and not AccessAttempt.objects.exists()
    entry = LogEntry.objects.get_for_object(owner).get(additional_data__event="login_lock_cleared")
    assert entry.actor == admin_user and entry.changes_dict == {"failures_since_start": [5, 0]}
    assert entry.additional_data["ip_address"] == "203.0.113.9"

    # Several at once from the list, one naming no account: each is a row of its own.
    ids = [attempt(owner.username).pk, attempt("nobody@example.com").pk]
    response = client.post(reverse("admin:axes_accessattempt_changelist"),
                           {"action": "delete_selected", "_selected_action": ids, "post": "yes"})
    assert response.status_code == 302 and not AccessAttempt.objects.exists()
    rows = LogEntry.objects.filter(additional_data__event="login_lock_cleared", actor=admin_user)
    assert rows.count() == 3
    assert rows.filter(additional_data__username="nobody@example.com", content_type__model="accessattempt").exists()


def test_cleaning_up_expired_attempts_in_the_admin_is_in_the_audit_trail(client, admin_user, owner, other_owner):
    from datetime import timedelta

    from axes.models import AccessAttempt
    from django.utils import timezone

    def attempt(username: str, minutes_ago: int) -> AccessAttempt:
        made = AccessAttempt.objects.create(username=username, ip_address="203.0.113.9", user_agent="curl",
                                            http_accept="*/*", path_info="/accounts/login/", failures_since_start=5)
        AccessAttempt.objects.filter(pk=made.pk).update(attempt_time=timezone.now() - timedelta(minutes=minutes_ago))
        return made

    client.force_login(admin_user)  # (a sign-in has axes clean expired attempts up itself: before they are made)
    expired, locked = attempt(owner.username, 120), attempt(other_owner.username, 1)  # the cool-off is 15 minutes
    response = client.post(reverse("admin:axes_accessattempt_changelist"),
                           {"action": "cleanup_expired_attempts", "_selected_action": [locked.pk]}, follow=True)
    assert response.status_code == 200 and "Cleaned up 1 expired access attempts." in response.content.decode()
    assert list(AccessAttempt.objects.all()) == [locked]  # still locked: only its cool-off lifts it, or an unlock
    entry = LogEntry.objects.get_for_object(owner).get(additional_data__event="login_lock_cleared")
    assert entry.actor == admin_user and entry.changes_dict == {"failures_since_start": [5, 0]}
    assert entry.additional_data["source"] == "admin" and "cool-off was over" in entry.additional_data["reason"]
    assert not LogEntry.objects.get_for_object(other_owner).filter(additional_data__event="login_lock_cleared")
    assert entry.additional_data["ip_address"] == expired.ip_address


@pytest.mark.parametrize("name", ["accesslog", "accessfailurelog"])
def test_removing_login_history_in_the_admin_is_in_the_audit_trail(client, admin_user, owner, name):
    from axes.models import AccessFailureLog, AccessLog

    model = {"accesslog": AccessLog, "accessfailurelog": AccessFailureLog}[name]
    client.force_login(admin_user)  # (axes records the sign-in itself: before these are made)
    model.objects.all().delete()
    records = [model.objects.create(username=owner.username, ip_address="203.0.113.9", user_agent="curl",
                                    http_accept="*/*", path_info="/accounts/login/") for _ in range(3)]
    response = client.post(reverse(f"admin:axes_{name}_delete", args=[records[0].pk]), {"post": "yes"})
    assert response.status_code == 302
    response = client.post(reverse(f"admin:axes_{name}_changelist"),
                           {"action": "delete_selected", "_selected_action": [records[1].pk], "post": "yes"})
    assert response.status_code == 302 and list(model.objects.all()) == [records[2]]
    rows = LogEntry.objects.filter(additional_data__event="login_history_removed").order_by("pk")
    assert [(row.actor, row.changes_dict, row.additional_data["source"]) for row in rows] == [
        (admin_user, {"records": [1, 0]}, "admin")] * 2
    assert all(owner.username not in f"{row.object_repr} {row.additional_data}" for row in rows)


def test_a_username_differing_from_another_only_in_letter_case_is_refused_in_the_admin(client, admin_user, owner):
    """People sign in whatever the case they type, so two such usernames would be one login for two accounts."""
    client.force_login(admin_user)
    url = reverse("admin:auth_user_change", args=[owner.pk])
    data = change_form(client, url)
    data["username"] = [admin_user.username.upper()]
    response = client.post(url, data)
    assert response.status_code == 200
    assert "already has the username" in str(response.context["adminform"].form.errors["username"])


def test_the_database_refuses_usernames_differing_only_in_letter_case(owner):
    from django.db import IntegrityError, transaction

    owner.username = owner.username.upper()
    owner.save()  # its own username in another case is fine
    with pytest.raises(IntegrityError), transaction.atomic():
        type(owner).objects.create(username=owner.username.lower(), email="other@example.com")


@pytest.mark.parametrize("figure", ["9999999999999999", "999999999999", "1e16"])
def test_a_kpi_figure_past_its_limit_gets_the_page_s_sentence_in_the_admin(client, admin_user, initiative, figure):
    client.force_login(admin_user)
    response = client.post(reverse("admin:portfolio_kpi_add"), {
        "initiative": initiative.pk, "name": "Big", "unit": "", "kind": "count", "baseline": figure, "target": "1",
        "direction": "decrease", "value_per_unit": ""})
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["baseline"] == [
        "A KPI figure is between -99,999,999,999.9999 and 99,999,999,999.9999 (11 digits before the point)."]


def test_a_person_added_in_the_admin_is_given_roles_through_their_service(client, admin_user):
    """The admin's "Add user" asks for roles, as the People page does: without one nothing is saved, so nobody is
    left active and able to sign in to see nothing."""
    from django.contrib.auth import get_user_model

    from portfolio.services.people import NO_ROLE_GIVEN

    client.force_login(admin_user)
    url = reverse("admin:auth_user_add")
    data = change_form(client, url)
    assert "roles" not in data  # offered, none ticked
    data.update(username=["new.reviewer@example.com"], usable_password=["true"], password1=["Tollgate-2026-pass!"],
                password2=["Tollgate-2026-pass!"])
    response = client.post(url, data)
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["roles"] == [NO_ROLE_GIVEN]
    assert not get_user_model().objects.filter(username="new.reviewer@example.com").exists()

    data["roles"] = [Role.REVIEWER.value]
    response = client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    person = get_user_model().objects.get(username="new.reviewer@example.com")
    assert person.is_active and set(person.groups.values_list("name", flat=True)) == {Role.REVIEWER.value}
    entry = LogEntry.objects.get_for_object(person).get(additional_data__event="roles_changed")
    assert entry.actor == admin_user and entry.additional_data["source"] == "admin"
    assert entry.changes_dict == {"roles": [[], [Role.REVIEWER.value]]}


def test_the_admin_deletes_vendors_models_departments_and_cost_centers_through_their_service(
        client, admin_user, initiative):
    """As the API does (reference_delete): what still uses the record is listed as protected on the confirmation page
    and nothing is deleted; an unused one is deleted under its own audited event, by the administrator."""
    client.force_login(admin_user)
    vendor = Vendor.objects.create(name="Acme AI")
    initiative.vendors.add(vendor)
    url = reverse("admin:portfolio_vendor_delete", args=[vendor.pk])
    page = client.get(url).content.decode()
    assert f"Acme AI: used by 1 initiative ({initiative})" in page and 'value="yes"' not in page
    assert client.post(url, {"post": "yes"}).status_code == 200 and Vendor.objects.filter(pk=vendor.pk).exists()
    assert initiative.vendors.filter(pk=vendor.pk).exists()
    # The changelist's "Delete selected" asks the same.
    bulk = client.post(reverse("admin:portfolio_vendor_changelist"),
                       {"action": "delete_selected", "_selected_action": [vendor.pk], "post": "yes"})
    assert "used by 1 initiative" in bulk.content.decode() and Vendor.objects.filter(pk=vendor.pk).exists()
    initiative.vendors.remove(vendor)
    model = AIModel.objects.create(name="acme-mini", provider=vendor, tier=ModelTier.SMALL)
    for record, name in ((model, "aimodel"), (vendor, "vendor"), (initiative.cost_center, "costcenter")):
        response = client.post(reverse(f"admin:portfolio_{name}_delete", args=[record.pk]), {"post": "yes"})
        if name == "costcenter":  # the initiative is billed to it
            assert response.status_code == 200 and "used by 1 initiative" in response.content.decode()
            assert type(record).objects.filter(pk=record.pk).exists()
        else:
            assert response.status_code == 302 and not type(record).objects.filter(pk=record.pk).exists()
    events = list(LogEntry.objects.filter(additional_data__event__in=["ai_model_deleted", "vendor_deleted"])
                  .order_by("pk").values_list("additional_data__event", "actor"))
    assert events == [("ai_model_deleted", admin_user.pk), ("vendor_deleted", admin_user.pk)]
