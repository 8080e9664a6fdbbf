from decimal import Decimal

import pytest
from auditlog.models import LogEntry
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError

from portfolio import services
from portfolio.choices import Category, KpiDirection, Stage
from portfolio.models import BusinessCase, Initiative
from tests.factories import (
    AIModelFactory,
    CostCenterFactory,
    DepartmentFactory,
    InitiativeFactory,
    UserFactory,
    VendorFactory,
)
from tollgate.roles import Role

pytestmark = pytest.mark.django_db


def test_initiative_create_registers_a_proposed_initiative_with_an_id(owner):
    department = DepartmentFactory()
    vendor = VendorFactory(name="Anthropic")
    initiative = services.initiative_create(
        actor=owner, name=" Claims summariser ", department=department, owner=owner,
        category=Category.DOCUMENT_PROCESSING, vendors=[vendor], tags=["claims", "claims", "gdpr"],
        declared_monthly_cost=Decimal("2500"),
    )
    assert initiative.stage == Stage.PROPOSED
    assert initiative.name == "Claims summariser"
    assert initiative.external_id == "TG-00001"
    assert initiative.tags == ["claims", "gdpr"]
    assert list(initiative.vendors.all()) == [vendor]
    second = services.initiative_create(actor=owner, name="Another", department=department, owner=owner)
    assert second.external_id == "TG-00002"


def test_initiative_create_is_audited_with_its_actor(owner):
    initiative = services.initiative_create(actor=owner, name="X", department=DepartmentFactory(), owner=owner)
    entry = LogEntry.objects.get_for_object(initiative).get()
    assert entry.action == LogEntry.Action.CREATE
    assert entry.actor == owner


def test_cost_center_must_belong_to_the_department(owner):
    other_cc = CostCenterFactory()
    with pytest.raises(ValidationError) as err:
        services.initiative_create(actor=owner, name="X", department=DepartmentFactory(), owner=owner,
                                   cost_center=other_cc)
    assert "cost_center" in err.value.message_dict
    assert not Initiative.objects.exists()


def test_negative_declared_cost_is_rejected(owner):
    with pytest.raises(ValidationError):
        services.initiative_create(actor=owner, name="X", department=DepartmentFactory(), owner=owner,
                                   declared_monthly_cost=Decimal("-1"))


def test_executive_cannot_write(executive, initiative):
    with pytest.raises(PermissionDenied):
        services.initiative_update(actor=executive, initiative=initiative, name="Renamed")
    initiative.refresh_from_db()
    assert initiative.name != "Renamed"


def test_update_writes_only_changes_and_never_the_stage(owner, initiative):
    before = LogEntry.objects.count()
    services.initiative_update(actor=owner, initiative=initiative, name=initiative.name)
    assert LogEntry.objects.count() == before  # nothing changed, nothing audited
    services.initiative_update(actor=owner, initiative=initiative, name="Renamed")
    entry = LogEntry.objects.get_for_object(initiative).latest("timestamp")
    assert entry.changes_dict["name"][1] == "Renamed"
    with pytest.raises(ValidationError, match="stage"):
        services.initiative_update(actor=owner, initiative=initiative, stage=Stage.PRODUCTION)


def test_update_sets_relations(owner, initiative):
    model = AIModelFactory()
    services.initiative_update(actor=owner, initiative=initiative, ai_models=[model], vendors=[model.provider])
    assert list(initiative.ai_models.all()) == [model]
    assert list(initiative.vendors.all()) == [model.provider]


def test_business_case_save_creates_then_updates(owner, initiative):
    case = services.business_case_save(
        actor=owner, initiative=initiative, problem="Slow claims", tco_inference=Decimal("100"),
        oversight_hours_per_month=Decimal("10"), loaded_hourly_rate=Decimal("50"),
    )
    assert case.tco_monthly == Decimal("600.00")
    services.business_case_save(actor=owner, initiative=initiative, tco_inference=Decimal("200"))
    assert BusinessCase.objects.get().tco_monthly == Decimal("700.00")
    with pytest.raises(ValidationError):
        services.business_case_save(actor=owner, initiative=initiative, not_a_field=1)


def test_kpis_replace_creates_updates_and_deletes(owner, initiative):
    first, second = services.kpis_replace(actor=owner, initiative=initiative, kpis=[
        {"name": "Handle time", "baseline": Decimal("6"), "target": Decimal("4"), "direction": KpiDirection.DECREASE},
        {"name": "Deflection", "baseline": Decimal("0"), "target": Decimal("30")},
    ])
    services.kpis_replace(actor=owner, initiative=initiative, kpis=[{"id": first.pk, "name": "AHT"}])
    assert list(initiative.kpis.values_list("name", flat=True)) == ["AHT"]
    other = InitiativeFactory()
    with pytest.raises(ValidationError):
        services.kpis_replace(actor=owner, initiative=other, kpis=[{"id": first.pk, "name": "steal"}])


@pytest.mark.parametrize(("direction", "baseline", "target", "message"), [
    (KpiDirection.INCREASE, "10", "5", "Higher is better, so the target must be above the baseline (10), not 5: "
                                       "correct the target, or the direction."),
    (KpiDirection.DECREASE, "13", "20", "Lower is better, so the target must be below the baseline (13), not 20: "
                                        "correct the target, or the direction."),
    (KpiDirection.INCREASE, "4.5", "4.50", "The target equals the baseline (4.5): it asks for no change. Give a "
                                           "target above the baseline."),
])
def test_a_target_that_contradicts_the_direction_is_refused_naming_the_target(
        owner, initiative, direction, baseline, target, message):
    row = {"name": "Tickets", "direction": direction, "baseline": Decimal(baseline), "target": Decimal(target)}
    with pytest.raises(ValidationError) as refused:
        services.kpis_replace(actor=owner, initiative=initiative, kpis=[row])
    assert refused.value.message_dict == {"target": [message]}
    assert not initiative.kpis.exists()
    kpi = services.kpi_save(actor=owner, initiative=initiative, name="Tickets", direction=direction,
                            baseline=Decimal(baseline), target=None)  # no target yet: nothing to contradict
    with pytest.raises(ValidationError, match="target"):
        services.kpi_save(actor=owner, initiative=initiative, kpi=kpi, target=Decimal(target))


@pytest.mark.parametrize("figure", ["999999999999.9999", "100000000000", "-100000000000"])
def test_a_kpi_figure_past_fifteen_digits_is_refused_as_the_embedded_database_could_not_read_it_back(
        owner, initiative, figure):
    with pytest.raises(ValidationError) as refused:
        services.kpis_replace(actor=owner, initiative=initiative, kpis=[
            {"name": "Tickets", "baseline": Decimal("0"), "target": Decimal(figure)}])
    assert refused.value.message_dict["target"] == [
        "A KPI figure is between -99,999,999,999.9999 and 99,999,999,999.9999 (11 digits before the point)."]
    assert not initiative.kpis.exists()
    largest = services.kpis_replace(actor=owner, initiative=initiative, kpis=[
        {"name": "Tickets", "baseline": Decimal("-99999999999.9999"), "target": Decimal("99999999999.9999")}])[0]
    stored = type(largest).objects.get(pk=largest.pk)  # read back from the database (a float on SQLite)
    assert (stored.baseline, stored.target) == (Decimal("-99999999999.9999"), Decimal("99999999999.9999"))


def test_person_get_or_create_has_no_usable_password_until_invited():
    user, created = services.person_get_or_create(email="Jane.Doe@Example.com", role=Role.OWNER)
    assert created and user.email == "jane.doe@example.com"
    assert (user.first_name, user.last_name) == ("Jane", "Doe")
    assert not user.has_usable_password()
    assert user.groups.filter(name="owner").exists()
    again, created = services.person_get_or_create(email="jane.doe@example.com")
    assert again == user and not created
    assert get_user_model().objects.count() == 1


def test_admin_role_grants_staff():
    user, _ = services.person_get_or_create(email="ops@example.com", role=Role.ADMIN)
    user.refresh_from_db()
    assert user.is_staff


def test_a_role_given_on_creation_or_added_later_is_audited_once_with_where_it_came_from(admin_user):
    user, _ = services.person_get_or_create(email="ops@example.com", role=Role.OWNER)
    services.person_set_role(user=user, role=Role.REVIEWER, actor=admin_user, source="admin")
    services.person_set_role(user=user, role=Role.REVIEWER, actor=admin_user, source="admin")  # nothing changes
    rows = [(e.additional_data["source"], e.actor, e.changes) for e in
            LogEntry.objects.get_for_object(user).filter(additional_data__event="roles_changed").order_by("pk")]
    assert rows == [("import", None, {"roles": [[], ["owner"]]}),
                    ("admin", admin_user, {"roles": [["owner"], ["owner", "reviewer"]]})]
    services.person_set_role(user=user, role=Role.EXECUTIVE, exclusive=True)
    assert set(user.groups.values_list("name", flat=True)) == {"executive"}


def test_a_model_substitute_set_by_its_service_is_one_audit_row(admin_user):
    mini = AIModelFactory(name="gpt-4o-mini", tier="small")
    frontier = AIModelFactory(name="gpt-4o", tier="frontier")
    services.ai_model_substitute_set(actor=admin_user, model=frontier, substitute=mini)
    (entry,) = LogEntry.objects.get_for_object(frontier).filter(action=LogEntry.Action.UPDATE)
    assert entry.additional_data == {"event": "ai_model_substitute_set"} and entry.actor == admin_user
    assert entry.changes == {"substitute": [None, "gpt-4o-mini"]}


def test_person_set_roles_sets_exactly_the_roles_keeps_other_groups_and_audits():
    from django.contrib.auth.models import Group

    user, _ = services.person_get_or_create(email="ops@example.com", role=Role.ADMIN)
    user.groups.add(Group.objects.create(name="newsletter"))
    assert services.person_set_roles(user=user, roles={Role.REVIEWER}, actor=None, source="sso")
    user.refresh_from_db()
    assert set(user.groups.values_list("name", flat=True)) == {"reviewer", "newsletter"} and not user.is_staff
    entry = LogEntry.objects.get_for_object(user).order_by("pk").last()
    assert entry.additional_data == {"event": "roles_changed", "source": "sso"}
    assert entry.changes == {"roles": [["admin"], ["reviewer"]], "is_staff": [True, False]}
    assert not services.person_set_roles(user=user, roles={Role.REVIEWER}, actor=None, source="sso")
    # A superuser stays staff (an administrator) whatever their groups.
    user.is_superuser = True
    user.save()
    services.person_set_roles(user=user, roles=set(), actor=None, source="sso")
    user.refresh_from_db()
    assert user.is_staff and not user.groups.filter(name="reviewer").exists()


def test_sso_sign_in_refuses_an_ambiguous_e_mail_and_creates_no_one_without_a_role():
    UserModel = get_user_model()
    UserModel.objects.create(username="a", email="twin@example.com")
    UserModel.objects.create(username="b", email="TWIN@example.com")
    with pytest.raises(PermissionDenied, match="More than one Tollgate account"):
        services.person_sign_in_with_sso(email="twin@example.com", first_name="", last_name="", roles={Role.OWNER},
                                         default_role=None)
    assert services.person_sign_in_with_sso(email="new@example.com", first_name="N", last_name="", roles=set(),
                                            default_role=None) is None
    assert not UserModel.objects.filter(email="new@example.com").exists()


def test_an_address_that_is_another_account_s_username_creates_no_one_and_raises_no_integrity_error():
    """Usernames are unique ignoring case (portfolio migration 0028) and new people are named by their address: one
    that is already another account's username (any case) is refused with a message, by the import's service and by
    single sign-on alike, instead of failing on the database's constraint; one that differs only in case from
    someone's e-mail address is that person."""
    UserModel = get_user_model()
    named = UserModel.objects.create(username="Sam.Named@example.com", email="sam@corp.example", first_name="Sam",
                                     last_name="Named")
    with pytest.raises(ValidationError) as refused:
        services.person_get_or_create(email="sam.named@example.com")
    assert refused.value.message_dict == {"email": [
        "sam.named@example.com is already the username of another account (Sam Named, whose e-mail address is "
        "sam@corp.example): give that account this e-mail address, or change its username in the Django admin, "
        "then try again."]}
    with pytest.raises(PermissionDenied, match="already has an account named sam.named@example.com that is not"):
        services.person_sign_in_with_sso(email="SAM.NAMED@example.com", first_name="S", last_name="N",
                                         roles={Role.OWNER}, default_role=None)
    assert list(UserModel.objects.filter(username__iexact="sam.named@example.com")) == [named]

    cased = UserModel.objects.create(username="ccase", email="Cleo.Case@Example.com")
    assert services.person_get_or_create(email="cleo.case@example.com") == (cased, False)
    assert services.person_sign_in_with_sso(email="CLEO.CASE@example.com", first_name="", last_name="",
                                            roles={Role.OWNER}, default_role=None) == cased


def test_reference_get_or_create_is_case_insensitive():
    dept = services.department_get_or_create(name="Customer Service")
    assert services.department_get_or_create(name="customer service") == dept
    cc = services.cost_center_get_or_create(code="CC-1", department=dept)
    assert services.cost_center_get_or_create(code="cc-1", department=dept) == cc
    vendor = services.vendor_get_or_create(name="OpenAI")
    assert services.vendor_get_or_create(name="openai") == vendor
    model = services.ai_model_get_or_create(name="gpt-4o", provider=vendor)
    assert services.ai_model_get_or_create(name="GPT-4o", provider=vendor) == model


def test_only_the_owner_and_administrators_change_the_delegates(owner, reviewer, admin_user, initiative):
    """A delegate may edit the initiative but not who acts for it: not add a CoE reviewer, not remove themselves.
    The refusal names the field and nothing is written."""
    delegate = UserFactory(role=Role.OWNER)
    initiative.delegates.add(delegate)
    for wanted in ([delegate, reviewer], []):
        with pytest.raises(ValidationError) as refused:
            services.initiative_update(actor=delegate, initiative=initiative, delegates=wanted, name="Not saved")
        assert "Only the owner and administrators" in str(refused.value.message_dict["delegates"])
    initiative.refresh_from_db()
    assert list(initiative.delegates.all()) == [delegate] and initiative.name != "Not saved"
    services.initiative_update(actor=delegate, initiative=initiative, delegates=[delegate], name="Renamed")
    services.initiative_update(actor=owner, initiative=initiative, delegates=[delegate, reviewer])
    services.initiative_update(actor=admin_user, initiative=initiative, delegates=[])
    assert not initiative.delegates.exists()


def test_only_administrators_name_a_new_owner_whatever_the_door(owner, other_owner, admin_user, initiative):
    """The rule is the service's, not only the form's and the serializer's: a delegate may not take the initiative
    over, nor its owner hand it to someone; nobody registers one in someone else's name. Nothing is written."""
    delegate = UserFactory(role=Role.OWNER)
    initiative.delegates.add(delegate)
    for actor, new_owner in ((delegate, delegate), (owner, other_owner), (delegate, other_owner)):
        with pytest.raises(ValidationError) as refused:
            services.initiative_update(actor=actor, initiative=initiative, owner=new_owner, name="Not saved")
        assert refused.value.message_dict["owner"] == ["Only administrators may assign an initiative to another owner."]
    initiative.refresh_from_db()
    assert initiative.owner == owner and initiative.name != "Not saved"
    with pytest.raises(ValidationError) as refused:
        services.initiative_create(actor=owner, name="In someone else's name", department=initiative.department,
                                   owner=other_owner)
    assert "owner" in refused.value.message_dict
    assert not Initiative.objects.filter(name="In someone else's name").exists()
    services.initiative_update(actor=owner, initiative=initiative, owner=owner, name="Renamed")  # unchanged: fine
    services.initiative_update(actor=admin_user, initiative=initiative, owner=other_owner)
    initiative.refresh_from_db()
    assert initiative.owner == other_owner


# The start date of an initiative that left the intake ---------------------------------------------------------------


@pytest.fixture
def pilot_with_history(owner):
    """A pilot that started 2026-01-01, with cost records from 2026-02 and a value report submitted for 2026-Q3."""
    from datetime import date

    from portfolio.models import MonthlyCost
    from reviews.choices import ReportStatus
    from tests.factories import ReviewCycleFactory, ValueReportFactory

    pilot = InitiativeFactory(owner=owner, stage=Stage.PILOT, start_date=date(2026, 1, 1))
    MonthlyCost.objects.create(initiative=pilot, month=date(2026, 2, 1), category="inference", amount=Decimal("900"))
    ValueReportFactory(initiative=pilot, cycle=ReviewCycleFactory(name="2026-Q3"), status=ReportStatus.SUBMITTED)
    return pilot


def test_after_approval_the_owner_and_delegates_may_not_move_the_start_date(owner, pilot_with_history):
    """Moving a running initiative's start date later cleared its pilot-age signal and its cost variance, and put its
    reports before its start: only an administrator or an independent CoE reviewer changes it, with a reason."""
    from datetime import date

    delegate = UserFactory(role=Role.OWNER)
    pilot_with_history.delegates.add(delegate)
    for who in (owner, delegate):
        with pytest.raises(ValidationError) as refused:
            services.initiative_update(actor=who, initiative=pilot_with_history, start_date=date(2026, 2, 1),
                                       start_date_reason="Started late.")
        assert "only by an administrator or a CoE reviewer" in str(refused.value.message_dict["start_date"])
    pilot_with_history.refresh_from_db()
    assert pilot_with_history.start_date == date(2026, 1, 1)


def test_an_administrator_moves_the_start_date_with_a_reason_but_not_past_costs_or_reports(
        admin_user, reviewer, pilot_with_history):
    from datetime import date

    pilot = pilot_with_history
    with pytest.raises(ValidationError, match="Give the reason"):
        services.initiative_update(actor=admin_user, initiative=pilot, start_date=date(2026, 2, 1))
    with pytest.raises(ValidationError) as refused:
        services.initiative_update(actor=admin_user, initiative=pilot, start_date=date(2026, 3, 1),
                                   start_date_reason="x")
    assert "later than its first month with cost records, 2026-02" in str(refused.value.message_dict["start_date"])
    pilot.refresh_from_db()
    assert pilot.start_date == date(2026, 1, 1)
    services.initiative_update(actor=admin_user, initiative=pilot, start_date=date(2026, 2, 15),
                               start_date_reason="Contract signed mid-February.")
    pilot.refresh_from_db()
    assert pilot.start_date == date(2026, 2, 15)
    entry = LogEntry.objects.filter(additional_data__event="start_date_changed").get()
    assert (entry.actor, entry.additional_data["reason"], entry.changes["start_date"]) == (
        admin_user, "Contract signed mid-February.", ["2026-01-01", "2026-02-15"])
    services.initiative_update(actor=reviewer, initiative=pilot, start_date=date(2025, 12, 1),
                               start_date_reason="Work began in December.")  # earlier is always possible
    pilot.refresh_from_db()
    assert pilot.start_date == date(2025, 12, 1)


def test_the_start_date_may_not_move_past_the_first_reported_period(admin_user, pilot_with_history):
    from datetime import date

    from portfolio.models import MonthlyCost

    MonthlyCost.objects.filter(initiative=pilot_with_history).delete()
    with pytest.raises(ValidationError) as refused:
        services.initiative_update(actor=admin_user, initiative=pilot_with_history, start_date=date(2026, 8, 1),
                                   start_date_reason="x")
    assert "its first submitted value report, 2026-Q3 (from 2026-07-01)" in str(
        refused.value.message_dict["start_date"])
    services.initiative_update(actor=admin_user, initiative=pilot_with_history, start_date=date(2026, 7, 1),
                               start_date_reason="Pilot began with the quarter.")


def test_the_start_date_change_of_the_reviewer_s_page_holds_to_the_same_rules(owner, reviewer, initiative,
                                                                              pilot_with_history):
    """initiative_start_date_change (the "Change start date" page): only a running initiative, only a new date, only
    by someone independent of it with a reason; nothing is written when refused, and the change is audited."""
    from datetime import date

    pilot = pilot_with_history
    refusals = [
        (initiative, reviewer, date(2026, 3, 1), "x", "Before approval the start date is its owner's to plan"),
        (pilot, reviewer, date(2026, 1, 1), "x", "The start date is already 2026-01-01"),
        (pilot, reviewer, date(2025, 12, 1), " ", "Give the reason"),
        (pilot, owner, date(2025, 12, 1), "x", "only by an administrator or a CoE reviewer"),
    ]
    for target, actor, start_date, reason, says in refusals:
        with pytest.raises(ValidationError) as refused:
            services.initiative_start_date_change(actor=actor, initiative=target, start_date=start_date, reason=reason)
        assert says in str(refused.value.message_dict["start_date"])
    pilot.delegates.add(reviewer)  # acting for it, the reviewer is no longer independent of it
    with pytest.raises(ValidationError, match="only by an administrator or a CoE reviewer"):
        services.initiative_start_date_change(actor=reviewer, initiative=pilot, start_date=date(2025, 12, 1),
                                              reason="x")
    pilot.delegates.remove(reviewer)
    assert not LogEntry.objects.filter(additional_data__event="start_date_changed").exists()
    changed = services.initiative_start_date_change(actor=reviewer, initiative=pilot, start_date=date(2025, 12, 1),
                                                    reason="Work began in December.")
    assert changed.start_date == date(2025, 12, 1)
    entry = LogEntry.objects.get(additional_data__event="start_date_changed")
    assert (entry.actor, entry.additional_data["reason"]) == (reviewer, "Work began in December.")


def test_before_approval_the_owner_plans_the_start_date_freely(owner, initiative):
    from datetime import date

    services.initiative_update(actor=owner, initiative=initiative, start_date=date(2027, 3, 1))
    initiative.refresh_from_db()
    assert initiative.start_date == date(2027, 3, 1)
    assert not LogEntry.objects.filter(additional_data__event="start_date_changed").exists()


def test_a_delegate_is_someone_whose_role_lets_them_act(owner, executive, reviewer, admin_user, initiative):
    """An executive only reads and an account without a role sees nothing: named a delegate, they would be told of
    the initiative's steps but could neither edit nor report. Refused on the initiative and on a person's profile;
    one already named may stay (an earlier version allowed it), and owners, reviewers and administrators may act."""
    from portfolio.services import person_update

    nobody = UserFactory()
    for wanted in ([executive], [nobody, executive]):
        with pytest.raises(ValidationError) as refused:
            services.initiative_update(actor=owner, initiative=initiative, delegates=wanted)
        message = refused.value.message_dict["delegates"][0]
        assert executive.get_full_name() in message and "cannot be named a delegate" in message
    with pytest.raises(ValidationError, match="cannot be named a delegate"):
        person_update(actor=admin_user, user=owner, roles={Role.OWNER}, is_active=True, department=None, title="",
                      delegates=[executive])
    assert not initiative.delegates.exists() and not owner.profile.delegates.exists()
    colleague = UserFactory(role=Role.OWNER)
    services.initiative_update(actor=owner, initiative=initiative, delegates=[colleague, reviewer, admin_user])
    initiative.delegates.add(executive)  # named before the rule: kept while others change
    services.initiative_update(actor=owner, initiative=initiative, delegates=[colleague, executive])
    assert set(initiative.delegates.all()) == {colleague, executive}
