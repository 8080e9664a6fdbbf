"""`manage.py import_initiatives PATH [--dry-run] [--actor EMAIL]`: the inventory import from the command line."""

from __future__ import annotations

from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.core.management.base import BaseCommand, CommandError, CommandParser

from portfolio.choices import RunStatus, RunTrigger
from portfolio.services.inventory_import import (
    HEADER_LINE,
    NEW_REFERENCE_KINDS,
    import_run_create,
    inventory_import_run,
)


class Command(BaseCommand):
    help = (
        "Import the initiative inventory from a UTF-8 CSV file (all or nothing; re-importing changes nothing). "
        f"Header: {HEADER_LINE}"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", help="CSV file to import.")
        parser.add_argument("--dry-run", action="store_true", help="Validate and report, write nothing.")
        parser.add_argument("--actor", metavar="EMAIL", help="Existing user recorded as the actor in the audit trail.")

    def handle(self, *args, path: str, dry_run: bool, actor: str | None, **options) -> None:
        file = Path(path)
        if not file.is_file():
            raise CommandError(f"No such file: {path}")
        user = None
        if actor:
            user = get_user_model().objects.filter(email__iexact=actor).first()
            if user is None:
                raise CommandError(f"No user with e-mail {actor}")
        try:
            run = import_run_create(
                actor=user, filename=file.name, content=file.read_bytes(), trigger=RunTrigger.COMMAND, dry_run=dry_run
            )
        except PermissionDenied as exc:
            raise CommandError(str(exc)) from exc
        # Synchronous on purpose: the operator waits for the outcome; the run is recorded all the same.
        run = inventory_import_run(run=run)
        if run.status != RunStatus.SUCCEEDED:
            for error in run.errors:
                row = error.get("row") if error.get("row") is not None else "-"
                self.stderr.write(f"row {row}, column {error.get('column') or '-'}: {error.get('message')}")
            raise CommandError(f"Import of {file.name} failed with {len(run.errors)} error(s); nothing was written.")
        prefix = "Dry run, nothing written. Would have: " if run.dry_run else "Imported: "
        self.stdout.write(self.style.SUCCESS(
            f"{prefix}{run.rows_created} created, {run.rows_updated} updated, {run.rows_unchanged} unchanged "
            f"({run.rows_total} rows, import run {run.pk})."
        ))
        # Reference data no existing record names: a typo here would become a new department, vendor or person.
        verb = "Would create" if run.dry_run else "Created"
        for kind, label in NEW_REFERENCE_KINDS:
            listed = run.new_references.get(kind)
            if not listed:
                continue
            self.stdout.write(f"{verb} {listed['total']} {label.lower()}:")
            for entry in listed["names"]:
                hint = f" -- did you mean {entry['did_you_mean']}?" if entry["did_you_mean"] else ""
                self.stdout.write(f"  {entry['name']}{hint}")
            if listed["total"] > len(listed["names"]):
                self.stdout.write(f"  ... and {listed['total'] - len(listed['names'])} more")
