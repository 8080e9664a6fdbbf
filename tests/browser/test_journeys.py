"""The main journey of each role, in a real browser."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from portfolio.choices import Stage
from portfolio.models import Initiative
from tests.factories import PASSWORD, BusinessCaseFactory, CostCenterFactory, InitiativeFactory, VendorFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def log_in(page: Page, user) -> None:
    page.goto("/portfolio/initiatives/")
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    page.fill("#id_username", user.username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    expect(page.locator("h1")).to_contain_text("Portfolio")


@pytest.fixture
def portfolio(owner, other_owner):
    InitiativeFactory(owner=owner, name="Claims letter drafting", stage=Stage.PILOT)
    other = InitiativeFactory(owner=other_owner, name="Support chatbot", stage=Stage.PRODUCTION)
    BusinessCaseFactory(initiative=other)
    return other


def test_owner_registers_an_initiative_through_the_form(page: Page, owner, portfolio):
    cost_center = CostCenterFactory(code="CC-4110", name="Claims operations")
    elsewhere = CostCenterFactory(code="CC-9900", name="Group treasury")
    anthropic = VendorFactory(name="Anthropic")
    VendorFactory(name="Amazon Web Services")
    log_in(page, owner)
    expect(page.locator(".role-badge")).to_have_text("Initiative owner")
    page.get_by_role("link", name="Register initiative").first.click()
    page.fill("#id_name", "Subrogation letter assistant")
    page.fill("#id_description", "Drafts subrogation demand letters from the claim file for adjusters to check.")
    page.select_option("#id_category", "content_generation")
    page.select_option("#id_department", str(cost_center.department_id))
    # the cost centers follow the department
    options = page.locator("#id_cost_center option")
    expect(options.filter(has_text="CC-4110")).to_have_count(1)
    expect(options.filter(has_text=elsewhere.code)).to_have_count(0)
    page.select_option("#id_cost_center", str(cost_center.pk))
    # vendors: a searchable multi-select, no Ctrl-click
    page.locator("#id_vendors + .select2").click()
    page.keyboard.type("Anthr")
    expect(page.locator(".select2-results__option")).to_have_text(["Anthropic"])
    page.keyboard.press("Enter")
    expect(page.locator("#id_vendors")).to_have_values([str(anthropic.pk)])
    page.fill("#id_declared_monthly_cost", "1800")
    page.fill("#id_bc-problem", "Adjusters spend 40 minutes per demand letter.")
    page.fill("#id_bc-baseline_cost_per_outcome", "38.50")
    page.fill("#id_bc-expected_monthly_volume", "900")
    page.fill("#id_bc-tco_inference", "600")
    page.fill("#id_kpis-0-name", "Minutes per letter")
    page.fill("#id_kpis-0-baseline", "40")
    page.fill("#id_kpis-0-target", "12")
    page.select_option("#id_kpis-0-direction", "decrease")
    value_label = page.locator("label[for=id_kpis-0-value_per_unit]")
    expect(value_label).to_have_text("Value per unit (USD):")
    page.select_option("#id_kpis-0-kind", "ratio")
    expect(value_label).to_have_text("Value per point (USD):")
    page.select_option("#id_kpis-0-kind", "per_outcome")
    expect(value_label).to_have_text("Value per unit per outcome (USD):")
    page.fill("#id_kpis-0-value_per_unit", "0.9")
    # KPI rows: two more added on the page, one of them removed again
    page.click("#add-kpi")
    page.click("#add-kpi")
    expect(page.locator(".kpi-row:visible")).to_have_count(4)
    page.fill("#id_kpis-2-name", "Letters sent back by legal")
    page.fill("#id_kpis-3-name", "Changed my mind")
    expect(page.locator("label[for=id_kpis-3-value_per_unit]")).to_have_text("Value per unit (USD):")
    page.locator("#kpi-row-3").get_by_role("button", name="Remove this KPI").click()
    expect(page.locator(".kpi-row:visible")).to_have_count(3)
    page.click("button[type=submit].primary")
    expect(page.locator("h1")).to_contain_text("Subrogation letter assistant")
    created = Initiative.objects.get(name="Subrogation letter assistant")
    assert created.owner == owner and created.stage == Stage.PROPOSED
    assert created.business_case.baseline_cost_per_outcome == 38.5
    assert created.cost_center == cost_center and list(created.vendors.all()) == [anthropic]
    assert list(created.kpis.order_by("pk").values_list("name", "kind")) == [
        ("Minutes per letter", "per_outcome"), ("Letters sent back by legal", "count")]
    expect(page.locator("#kpis").get_by_text("Minutes per letter")).to_be_visible()


def test_owner_cannot_edit_someone_elses_initiative(page: Page, owner, portfolio):
    log_in(page, owner)
    page.goto(f"/portfolio/initiatives/{portfolio.pk}/")
    expect(page.get_by_role("link", name="Edit")).to_have_count(0)
    response = page.goto(f"/portfolio/initiatives/{portfolio.pk}/edit/")
    assert response.status == 403


def test_reviewer_filters_the_portfolio_and_reads_a_business_case(page: Page, reviewer, portfolio):
    log_in(page, reviewer)
    expect(page.locator(".role-badge")).to_have_text("CoE reviewer")
    expect(page.get_by_role("link", name="Register initiative")).to_have_count(0)
    page.select_option("select[name=stage]", "production")
    page.locator("form.filters button[type=submit]").click()
    expect(page.locator("table.table tbody tr")).to_have_count(1)
    page.get_by_role("link", name="Support chatbot").click()
    expect(page.get_by_text("Business case").first).to_be_visible()


def test_executive_reads_and_exports_but_cannot_register(page: Page, executive, portfolio):
    log_in(page, executive)
    expect(page.locator(".role-badge")).to_have_text("Executive")
    expect(page.get_by_role("link", name="Register initiative")).to_have_count(0)
    with page.expect_download() as download_info:
        page.get_by_role("link", name=re.compile("Export CSV")).click()
    content = open(download_info.value.path(), encoding="utf-8").read()
    assert "Support chatbot" in content and "Claims letter drafting" in content
    assert page.goto("/portfolio/initiatives/new/").status == 403


def test_admin_imports_an_inventory_file(page: Page, admin_user, tmp_path):
    path = tmp_path / "inventory.csv"
    path.write_text(
        "external_id,name,description,department,cost_center,owner_email,stage,category,vendors,models,start_date,"
        "monthly_cost_usd,seats_purchased\n"
        "INV-1,Contract clause extractor,Pulls renewal clauses,Legal,CC-7100,lena.legal@example.com,pilot,"
        "document_processing,Anthropic,claude-3-5-sonnet,2025-03-01,2400,\n"
        "INV-2,Copilot for engineers,Code completion,Engineering,CC-2100,eng.lead@example.com,production,"
        "code_assistant,GitHub,,2024-11-15,9500,500\n",
        encoding="utf-8",
    )
    log_in(page, admin_user)
    expect(page.locator(".role-badge")).to_have_text("Administrator")
    page.get_by_role("link", name="Imports").click()
    page.get_by_role("link", name=re.compile("Import a file")).click()
    page.set_input_files("input[type=file]", str(path))
    page.locator("form button[type=submit].primary").click()
    expect(page.get_by_text(re.compile("Succeeded", re.I)).first).to_be_visible()
    assert set(Initiative.objects.values_list("external_id", flat=True)) == {"INV-1", "INV-2"}


def test_admin_gives_a_person_a_role_in_the_django_admin_and_finds_it_in_the_audit_trail(
        page: Page, admin_user, owner):
    log_in(page, admin_user)
    page.goto(f"/admin/auth/user/{owner.pk}/change/")
    expect(page.locator("#id_user_permissions_from")).to_have_count(0)  # roles only, declared in tollgate.roles
    page.select_option("#id_groups_from", label="reviewer")
    page.click("#id_groups_add")
    page.locator("input[name=_save]").click()
    expect(page.locator(".messagelist")).to_contain_text("was changed successfully")
    page.goto("/governance/audit/?event=roles_changed")
    row = page.locator("table tbody tr").filter(has_text=owner.username)
    expect(row).to_have_count(1)
    expect(row).to_contain_text("Roles changed")
    expect(row).to_contain_text("Roles: Initiative owner → Initiative owner, CoE reviewer")
    expect(row).to_contain_text(admin_user.get_full_name())


def test_admin_makes_an_owner_a_reviewer_on_the_people_page(page: Page, admin_user, owner, reviewer):
    log_in(page, admin_user)
    page.get_by_role("link", name="People", exact=True).click()
    page.select_option("#id_role", "owner")
    page.get_by_role("button", name="Apply").click()
    rows = page.locator("table tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(owner.email)
    rows.first.get_by_role("link", name="Edit").click()
    page.get_by_label("CoE reviewer").check()
    page.click("#save-person")
    expect(page.locator(".messages, .messagelist, [role=status]").first).to_contain_text("saved")
    page.select_option("#id_role", "reviewer")
    page.get_by_role("button", name="Apply").click()
    expect(page.locator("table tbody tr")).to_have_count(2)
    assert set(owner.groups.values_list("name", flat=True)) == {"owner", "reviewer"}


def test_admin_adds_someone_who_sets_their_password_from_the_invitation(page: Page, admin_user, mailoutbox):
    """A newcomer's first day: the administrator adds them with an invitation; they open the e-mailed link, set a
    password and log in, choose their notification e-mails and make (and revoke) an API token for a spreadsheet; a
    forgotten password later goes the same way from the login page."""
    log_in(page, admin_user)
    page.get_by_role("link", name="People", exact=True).click()
    page.click("#add-person")
    page.fill("#id_email", "nina.novak@example.com")
    page.fill("#id_first_name", "Nina")
    page.fill("#id_last_name", "Novak")
    page.get_by_label("Initiative owner").check()
    expect(page.locator("#id_invite")).to_be_checked()
    page.click("#create-person")
    expect(page.locator(".messages")).to_contain_text("an invitation was e-mailed to nina.novak@example.com")
    page.get_by_role("button", name="Log out").click()

    link = re.search(r"https?://\S+(/accounts/password/reset/\S+/)", mailoutbox[0].body).group(1)
    page.goto(link)
    page.fill("#id_new_password1", "correct-horse-battery-staple")
    page.fill("#id_new_password2", "correct-horse-battery-staple")
    page.get_by_role("button", name="Set password").click()
    expect(page.locator(".messages")).to_contain_text("Your password is set")
    page.fill("#id_username", "nina.novak@example.com")
    page.fill("#id_password", "correct-horse-battery-staple")
    page.click("button[type=submit]")
    expect(page.locator("h1")).to_contain_text("Portfolio")
    page.click("#account-link")
    expect(page.locator("#account-roles")).to_have_text("Initiative owner")
    page.check("#id_notification_email_off")
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".messages")).to_contain_text("no longer e-mailed")
    # A token for her spreadsheet: named, shown once, working until she revokes it.
    page.fill("#id_token_name", "Weekly spreadsheet")
    page.select_option("#id_token_days", "30")
    page.click("#create-token")
    key = page.locator("#new-token").inner_text()
    assert page.request.get("/api/initiatives/", headers={"Authorization": f"Token {key}"}).status == 200
    expect(page.locator("#token-table")).to_contain_text("Weekly spreadsheet")
    page.locator("#token-table .revoke-token").first.click()
    expect(page.locator(".messages")).to_contain_text("Weekly spreadsheet")
    expect(page.locator("#no-tokens")).to_be_visible()
    assert page.request.get("/api/initiatives/", headers={"Authorization": f"Token {key}"}).status == 401
    page.get_by_role("button", name="Log out").click()

    page.click("#forgot-password")
    page.fill("#id_email", "nina.novak@example.com")
    page.get_by_role("button", name="E-mail me a link").click()
    expect(page.locator("#reset-sent")).to_be_visible()
    assert mailoutbox[-1].subject == "Set a new Tollgate password"


def test_admin_switches_off_a_leaver_and_hands_over_what_they_own(page: Page, admin_user, owner, other_owner,
                                                                  portfolio):
    log_in(page, admin_user)
    page.goto(f"/portfolio/people/{owner.pk}/edit/")
    page.get_by_label("Active").uncheck()
    page.click("#save-person")
    expect(page.locator(".messages")).to_contain_text("saved")
    page.goto(f"/portfolio/people/{owner.pk}/edit/")
    expect(page.locator("#hand-over")).to_contain_text("Claims letter drafting")
    page.select_option("#hand-over-form select", label=f"{other_owner.get_full_name()} <{other_owner.email}>")
    page.click("#hand-over-button")
    expect(page.locator("#hand-over-table")).to_contain_text("Claims letter drafting")
    page.click("#hand-over-confirm-button")
    expect(page.locator(".messages")).to_contain_text(f"1 initiative handed over to {other_owner.get_full_name()}")
    assert Initiative.objects.get(name="Claims letter drafting").owner == other_owner
