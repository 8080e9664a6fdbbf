"""Cost sources and allocation rules as code: a reviewed YAML file applied idempotently.

    sources:
      - {name: aws-focus, type: focus, settings: {ai_service_names: [Amazon Bedrock]}, schedule: daily}
      - {name: github-copilot, type: github_copilot, settings: {org: northwind, licence_pool: INV-0009}}
    rules:                                         # ordered; first match wins
      - {source: aws-focus, key: "tag:project", match: exact, value: search-assistant, initiative: INV-0001}

Every object the file refers to is named by a stable key, never a database id: a rule's source by its name and its
initiative by its external id; a seat source's `licence_pool` by the external id of the initiative whose pool it is
(`INV-0009`), or `INV-0009/<tool name>` when that initiative has several pools.
The whole file is validated before anything is written; the first bad entry is named ("rules[2]: unknown initiative
INV-9") and nothing changes. A source listed is set to exactly what the file says (omitted fields take their
defaults), through the cost-source services (validated, audited). The rules of every source the file names (under
`sources` or `rules`) become exactly the file's rules for it, in file order; sources the file does not name keep
theirs. Applying the same file twice changes nothing.
Secrets never go in the file: `credential_env` names the environment variable that holds one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from auditlog.context import set_actor
from django.core.exceptions import ValidationError
from django.db import transaction

from portfolio.choices import RuleMatch, SourceType
from portfolio.costs.services.allocation import allocation_rules_reapply
from portfolio.costs.services.sources import cost_source_create, cost_source_update, source_settings_validate
from portfolio.models import AllocationRule, CostSource, Initiative, secret_setting_keys
from tollgate.types import Actor

SOURCE_FIELDS = {"name", "type", "settings", "credential_env", "schedule", "enabled"}
RULE_FIELDS = {"source", "key", "match", "value", "initiative"}


class CostConfigError(ValidationError):
    """An invalid configuration file; the message names the entry, e.g. 'rules[2]: unknown initiative INV-9'."""

    def __str__(self) -> str:
        return " ".join(self.messages)


@dataclass
class CostConfigResult:
    sources_created: int = 0
    sources_updated: int = 0
    rules_created: int = 0
    rules_updated: int = 0
    rules_deleted: int = 0
    changed_sources: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return any((self.sources_created, self.sources_updated, self.rules_created, self.rules_updated,
                    self.rules_deleted))


def _messages(exc: ValidationError) -> str:
    if hasattr(exc, "message_dict"):
        return "; ".join(f"{name}: {' '.join(msgs)}" for name, msgs in exc.message_dict.items())
    return " ".join(exc.messages)


def cost_config_load(path: Path | str) -> dict[str, Any]:
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CostConfigError(f"{path}: file not found") from None
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise CostConfigError(f"{path}: not valid YAML ({exc})") from None
    if data is None:
        data = {}
    if not isinstance(data, dict) or set(data) - {"sources", "rules"}:
        raise CostConfigError(f"{path}: the top level must be a mapping with 'sources' and/or 'rules'")
    return data


def _validated_sources(entries: Any) -> list[CostSource]:
    if not isinstance(entries, list):
        raise CostConfigError("sources: must be a list")
    sources: list[CostSource] = []
    seen: set[str] = set()
    for index, entry in enumerate(entries):
        where = f"sources[{index}]"
        if not isinstance(entry, dict):
            raise CostConfigError(f"{where}: must be a mapping")
        unknown = set(entry) - SOURCE_FIELDS
        if unknown:
            hint = " (secrets go in an environment variable named by credential_env)" if secret_setting_keys(
                dict.fromkeys(unknown)) else ""
            raise CostConfigError(f"{where}: unknown field(s) {', '.join(sorted(unknown))}{hint}")
        name = str(entry.get("name") or "").strip()
        if not name:
            raise CostConfigError(f"{where}: name is required")
        if name in seen:
            raise CostConfigError(f"{where}: source {name} is listed twice")
        seen.add(name)
        if entry.get("type") not in SourceType.values:
            raise CostConfigError(f"{where}: unknown type {entry.get('type')!r}; types: {', '.join(SourceType.values)}")
        settings = entry.get("settings") or {}
        if not isinstance(settings, dict):
            raise CostConfigError(f"{where}: settings must be a mapping")
        source = CostSource.objects.filter(name=name).first() or CostSource(name=name)
        source.type = entry["type"]
        source.settings = settings
        source.credential_env = str(entry.get("credential_env") or "")
        source.schedule = str(entry.get("schedule") or "daily")
        source.enabled = bool(entry.get("enabled", True))
        try:
            source.full_clean(validate_unique=False)
            source_settings_validate(settings)
        except ValidationError as exc:
            raise CostConfigError(f"{where} ({name}): {_messages(exc)}") from None
        sources.append(source)
    return sources


def _validated_rules(entries: Any, sources: dict[str, CostSource]) -> dict[str, list[AllocationRule]]:
    if not isinstance(entries, list):
        raise CostConfigError("rules: must be a list")
    initiatives = {i.external_id: i for i in Initiative.objects.only("pk", "external_id")}
    by_source: dict[str, list[AllocationRule]] = {}
    for index, entry in enumerate(entries):
        where = f"rules[{index}]"
        if not isinstance(entry, dict):
            raise CostConfigError(f"{where}: must be a mapping")
        unknown = set(entry) - RULE_FIELDS
        missing = {"source", "key", "value", "initiative"} - set(entry)
        if unknown or missing:
            problems = [f"unknown field(s) {', '.join(sorted(unknown))}"] if unknown else []
            problems += [f"missing {', '.join(sorted(missing))}"] if missing else []
            raise CostConfigError(f"{where}: {'; '.join(problems)}")
        source_name = str(entry["source"])
        source = sources.get(source_name) or CostSource.objects.filter(name=source_name).first()
        if source is None:
            raise CostConfigError(f"{where}: unknown source {source_name}")
        sources.setdefault(source_name, source)
        initiative = initiatives.get(str(entry["initiative"]))
        if initiative is None:
            raise CostConfigError(f"{where}: unknown initiative {entry['initiative']}")
        match = entry.get("match", RuleMatch.EXACT)
        if match not in RuleMatch.values:
            raise CostConfigError(f"{where}: match must be one of {', '.join(RuleMatch.values)}, not {match!r}")
        rules = by_source.setdefault(source_name, [])
        rule = AllocationRule(source=source, order=len(rules) + 1, key=str(entry["key"]), match=match,
                              value=str(entry["value"]), initiative=initiative)
        try:
            rule.full_clean(exclude=["source"])
        except ValidationError as exc:
            raise CostConfigError(f"{where}: {_messages(exc)}") from None
        rules.append(rule)
    return by_source


def cost_config_apply(*, data: dict[str, Any], actor: Actor | None = None) -> CostConfigResult:
    """Validate everything, then create/update sources and replace the named sources' rules in one transaction."""
    listed = _validated_sources(data.get("sources") or [])
    sources = {s.name: s for s in listed}
    rules_by_source = _validated_rules(data.get("rules") or [], sources)
    result = CostConfigResult()
    with transaction.atomic(), set_actor(actor):
        for source in listed:
            if source.pk is None:
                sources[source.name] = cost_source_create(
                    actor=actor, **{name: getattr(source, name) for name in SOURCE_FIELDS})
                result.sources_created += 1
                result.changed_sources.append(source.name)
                continue
            stored = CostSource.objects.get(pk=source.pk)
            fields = [f for f in ("type", "settings", "credential_env", "schedule", "enabled")
                      if getattr(stored, f) != getattr(source, f)]
            if fields:
                cost_source_update(actor=actor, source=source, **{name: getattr(source, name) for name in fields})
                result.sources_updated += 1
                result.changed_sources.append(source.name)
        for name, source in sources.items():
            if _replace_rules(source, rules_by_source.get(name, []), result):
                allocation_rules_reapply(source=source)  # records already read follow the new rules
                result.changed_sources.append(name)
    return result


def _replace_rules(source: CostSource, wanted: list[AllocationRule], result: CostConfigResult) -> bool:
    """Make the source's rules exactly `wanted`, updating in place by position so an unchanged file writes nothing.

    An order is unique within a source, checked row by row: the rules past the file's go first, then the rules whose
    order falls are written lowest first and those whose order rises highest first, so no write meets an order
    another rule still holds (both lists are sorted, so a rule only ever moves into an order already vacated)."""
    existing = list(source.rules.order_by("order", "id"))
    changed = False
    for extra in existing[len(wanted):]:
        extra.delete()
        result.rules_deleted += 1
        changed = True
    updates: list[tuple[AllocationRule, AllocationRule, list[str]]] = []
    for current, rule in zip(existing, wanted, strict=False):
        rule.source = source
        fields = [f for f in ("order", "key", "match", "value", "initiative_id")
                  if getattr(current, f) != getattr(rule, f)]
        if fields:
            updates.append((current, rule, fields))
    falling = [update for update in updates if update[1].order <= update[0].order]
    rising = [update for update in updates if update[1].order > update[0].order]
    for current, rule, fields in [*falling, *reversed(rising)]:
        for name in fields:
            setattr(current, name, getattr(rule, name))
        current.save()
        result.rules_updated += 1
        changed = True
    for rule in wanted[len(existing):]:
        rule.source = source
        rule.save()
        result.rules_created += 1
        changed = True
    return changed


def cost_config_apply_file(*, path: Path | str, actor: Actor | None = None) -> CostConfigResult:
    return cost_config_apply(data=cost_config_load(path), actor=actor)
