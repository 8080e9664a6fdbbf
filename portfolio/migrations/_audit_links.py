"""What the migrations linking existing audit entries to their initiative share (not a migration itself: the
loader skips modules whose name starts with an underscore). Frozen with those migrations: it reads historical models
only."""

import json
from collections.abc import Callable


def link_entries(apps, app_label: str, model_name: str, parent_key: str,
                 initiative_of_parent: Callable[[int], int | None]) -> None:
    """Link the entries about `app_label.model_name` records to their initiative. `parent_key` is the field of the
    record that names its parent in an entry's changes, `initiative_of_parent(id)` the parent's initiative (None when
    unknown); a record that exists is linked by its current parent."""
    ContentType = apps.get_model("contenttypes", "ContentType")
    LogEntry = apps.get_model("auditlog", "LogEntry")
    Link = apps.get_model("portfolio", "AuditEntryInitiative")
    content_type = ContentType.objects.filter(app_label=app_label, model=model_name).first()
    if content_type is None:
        return
    model = apps.get_model(app_label, model_name)
    current = dict(model.objects.values_list("pk", f"{parent_key}_id"))
    entries = list(LogEntry.objects.filter(content_type=content_type, object_id__isnull=False)
                   .values_list("pk", "object_id", "changes"))
    named: dict[int, int] = {}  # a deleted record's parent, from any of its entries
    for _pk, object_id, changes in entries:
        if object_id in current or object_id in named:
            continue
        if isinstance(changes, str):
            try:
                changes = json.loads(changes)
            except ValueError:
                continue
        values = (changes or {}).get(parent_key) if isinstance(changes, dict) else None
        for value in values if isinstance(values, list) else []:
            if str(value).isdigit():
                named[object_id] = int(value)
                break
    links = []
    for pk, object_id, _changes in entries:
        parent = current.get(object_id) or named.get(object_id)
        initiative_id = initiative_of_parent(parent) if parent is not None else None
        if initiative_id is not None:
            links.append(Link(entry_id=pk, initiative_id=initiative_id))
    Link.objects.bulk_create(links, batch_size=2000, ignore_conflicts=True)
