"""factory_boy factories of sprawl detection: use cases, clusters and their members."""

from __future__ import annotations

from decimal import Decimal

import factory
from django.utils import timezone

from governance.choices import SprawlStatus, UseCaseOrigin
from governance.models import InitiativeUseCase, SprawlCluster, SprawlClusterMember, UseCase
from tests.factories import InitiativeFactory


class UseCaseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = UseCase
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"use-case-{n}")
    name = factory.Sequence(lambda n: f"Use case {n}")
    job = "Does one job for the business."
    synonyms = factory.LazyFunction(list)
    catalogue_version = "test"


class InitiativeUseCaseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = InitiativeUseCase

    initiative = factory.SubFactory(InitiativeFactory)
    use_case = factory.SubFactory(UseCaseFactory)
    confidence = Decimal("0.800")
    origin = UseCaseOrigin.SUGGESTED


class SprawlClusterFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SprawlCluster
        skip_postgeneration_save = True

    status = SprawlStatus.OPEN
    score = Decimal("0.750")
    title = factory.Sequence(lambda n: f"Cluster {n}")
    monthly_spend = Decimal("3000.00")
    estimated_saving = Decimal("1000.00")
    saving_basis = "Consolidating onto A, the most expensive member."
    first_seen_at = factory.LazyFunction(timezone.now)
    last_seen_at = factory.LazyFunction(timezone.now)

    @factory.post_generation
    def initiatives(self, create, extracted, **kwargs):
        """SprawlClusterFactory(initiatives=[a, b]) adds them as active members."""
        for initiative in extracted or []:
            SprawlClusterMember.objects.create(cluster=self, initiative=initiative)


class SprawlClusterMemberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SprawlClusterMember

    cluster = factory.SubFactory(SprawlClusterFactory)
    initiative = factory.SubFactory(InitiativeFactory)
