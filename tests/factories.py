"""factory_boy factories for the whole test suite."""

from decimal import Decimal

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from portfolio import models
from portfolio.choices import Category, KpiDirection, ModelTier, Stage
from tollgate.roles import Role

PASSWORD = "tollgate-test-pw"


class DepartmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Department
        django_get_or_create = ("code",)

    name = factory.Sequence(lambda n: f"Department {n}")
    code = factory.Sequence(lambda n: f"dept-{n}")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}@example.com")
    email = factory.SelfAttribute("username")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def role(self, create, extracted, **kwargs):
        """UserFactory(role=Role.REVIEWER) puts the user in that role's group."""
        if extracted:
            group, _ = Group.objects.get_or_create(name=Role(extracted).value)
            self.groups.add(group)
            if Role(extracted) == Role.ADMIN:
                self.is_staff = True
        if create:
            self.save()
            models.Profile.objects.get_or_create(user=self)


class CostCenterFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.CostCenter

    code = factory.Sequence(lambda n: f"CC-{1000 + n}")
    name = factory.Sequence(lambda n: f"Cost center {n}")
    department = factory.SubFactory(DepartmentFactory)


class VendorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Vendor
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Vendor {n}")


class AIModelFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.AIModel

    provider = factory.SubFactory(VendorFactory)
    name = factory.Sequence(lambda n: f"model-{n}")
    tier = ModelTier.MID
    input_price_per_mtok = Decimal("1.00")
    output_price_per_mtok = Decimal("4.00")
    context_window = 128000


class InitiativeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Initiative
        skip_postgeneration_save = True

    external_id = factory.Sequence(lambda n: f"EXT-{n:05d}")
    name = factory.Sequence(lambda n: f"Initiative {n}")
    description = "Summarise inbound support tickets for agents."
    category = Category.CONVERSATIONAL_ASSISTANT
    department = factory.SubFactory(DepartmentFactory)
    cost_center = factory.SubFactory(CostCenterFactory, department=factory.SelfAttribute("..department"))
    owner = factory.SubFactory(UserFactory, role=Role.OWNER)
    stage = Stage.PROPOSED
    declared_monthly_cost = Decimal("1200.00")

    @factory.post_generation
    def vendors(self, create, extracted, **kwargs):
        if create and extracted:
            self.vendors.set(extracted)

    @factory.post_generation
    def delegates(self, create, extracted, **kwargs):
        if create and extracted:
            self.delegates.set(extracted)


class BusinessCaseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.BusinessCase

    initiative = factory.SubFactory(InitiativeFactory)
    problem = "Agents spend 6 minutes per ticket reading history."
    process_replaced = "Manual ticket triage by tier-1 agents"
    baseline_cost_per_outcome = Decimal("4.5000")
    outcome_unit = "ticket triaged"
    expected_monthly_volume = 20000
    tco_inference = Decimal("800.00")
    tco_compute = Decimal("0.00")
    tco_storage = Decimal("50.00")
    tco_licences = Decimal("0.00")
    oversight_hours_per_month = Decimal("20.0")
    loaded_hourly_rate = Decimal("65.00")
    tco_maintenance = Decimal("300.00")
    expected_monthly_value = Decimal("9000.00")
    min_viable_scale = 5000
    success_criteria = "Handle time down 30% with CSAT unchanged."


class KPIFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.KPI

    initiative = factory.SubFactory(InitiativeFactory)
    name = "Average handle time"
    unit = "minutes"
    baseline = Decimal("6.0")
    target = Decimal("4.0")
    direction = KpiDirection.DECREASE
    value_per_unit = Decimal("0.75")


class LicencePoolFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.LicencePool
        skip_postgeneration_save = True

    tool = "GitHub Copilot Business"
    vendor = factory.SubFactory(VendorFactory, name="GitHub")
    seats_purchased = 250
    price_per_seat_month = Decimal("19.00")
    initiative = factory.SubFactory(InitiativeFactory)

    @factory.post_generation
    def terms(self, create, extracted, **kwargs):
        """Its first terms row, from the month it was created, as licence_pool_save writes it."""
        if create:
            models.LicencePoolTerms.objects.create(
                pool=self, effective_from=self.created_at.date().replace(day=1), seats_purchased=self.seats_purchased,
                price_per_seat_month=self.price_per_seat_month, initiative=self.initiative)


# Reviews -------------------------------------------------------------------------------------------------------------

from datetime import date, timedelta  # noqa: E402  (appended section of the reviews app)

from django.utils import timezone  # noqa: E402

from reviews.calculations import cycle_for_quarter_after  # noqa: E402


class ReviewCycleFactory(factory.django.DjangoModelFactory):
    """A cycle reviewing Q3 2026, open since 2026-10-01 and due 2026-10-31."""

    class Meta:
        model = "reviews.ReviewCycle"
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"2026-Q3-{n}")
    period_start = date(2026, 7, 1)
    period_end = date(2026, 9, 30)
    opens_on = date(2026, 10, 1)
    due_on = date(2026, 10, 31)


def last_quarter_cycle_form() -> dict[str, str]:
    """What opens the cycle of the quarter just ended, due a month from today, as a form or API body: the service
    refuses a new cycle whose due date has passed, so fixed dates would stop working as the calendar moves on."""
    today = timezone.localdate()
    planned = cycle_for_quarter_after(today)
    return {"name": planned.name, "period_start": f"{planned.period_start:%Y-%m-%d}",
            "period_end": f"{planned.period_end:%Y-%m-%d}", "opens_on": f"{today:%Y-%m-%d}",
            "due_on": f"{today + timedelta(days=30):%Y-%m-%d}"}


class ValueReportFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "reviews.ValueReport"

    cycle = factory.SubFactory(ReviewCycleFactory)
    initiative = factory.SubFactory(InitiativeFactory, stage=Stage.PILOT)


# --- governance ------------------------------------------------------------------------------------------------------


class RubricCriterionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "governance.RubricCriterion"
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Criterion {n}")
    description = "What the reviewer looks at."
    weight = Decimal("10")
    order = factory.Sequence(int)


def _days_ago(days: int):
    from datetime import timedelta

    from django.utils import timezone

    return timezone.now() - timedelta(days=days)


class IntakeSubmissionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "governance.IntakeSubmission"

    initiative = factory.SubFactory(InitiativeFactory, stage=Stage.IN_REVIEW)
    round = factory.Sequence(lambda n: n + 1)
    submitted_by = factory.SelfAttribute("initiative.owner")
    submitted_at = factory.LazyFunction(lambda: _days_ago(5))  # so "days waiting" has something to show
