"""Inventory import pages: upload a CSV, follow the run, read its errors. The work is done by a Celery task."""

from __future__ import annotations

from typing import Any, ClassVar

import django_tables2 as tables
from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db.models import QuerySet
from django.http import HttpResponse, HttpResponseRedirect
from django.views.generic import DetailView, FormView

from portfolio import selectors
from portfolio.choices import RunStatus, RunTrigger
from portfolio.models import ImportRun
from portfolio.services.inventory_import import (
    COLUMNS,
    HEADER_LINE,
    LIST_SEPARATOR,
    MAX_FILE_BYTES,
    NEW_REFERENCE_KINDS,
    import_run_submit,
)
from tollgate.roles import may
from tollgate.types import request_actor
from tollgate.ui.errors import form_add_service_errors
from tollgate.ui.tables import NUM, YesNoColumn, ordered_ignoring_case
from tollgate.ui.views import ListPageView, PermissionRequiredMixin


class ImportRunTable(tables.Table):
    created_at = tables.DateTimeColumn(format="Y-m-d H:i", verbose_name="When", linkify=True)
    actor = tables.Column("Who")
    filename = tables.Column("File")
    trigger = tables.Column()
    dry_run = YesNoColumn("Dry run", yesno="yes,")
    status = tables.Column()
    rows_total = tables.Column("Rows", attrs=NUM)
    rows_created = tables.Column("Created", attrs=NUM)
    rows_updated = tables.Column("Updated", attrs=NUM)
    rows_unchanged = tables.Column("Unchanged", attrs=NUM)
    error_count = tables.Column("Errors", accessor="errors", orderable=False, attrs=NUM)

    class Meta:
        model = ImportRun
        fields = ()
        sequence = (
            "created_at", "actor", "filename", "trigger", "dry_run", "status", "rows_total", "rows_created",
            "rows_updated", "rows_unchanged", "error_count",
        )
        order_by = ("-created_at",)
        empty_text = "No imports yet."

    def render_actor(self, value: Any) -> str:
        return value.get_full_name() or value.get_username()

    def value_dry_run(self, value: bool) -> str:
        return "yes" if value else ""  # as the page says it

    def value_actor(self, value: Any) -> str:
        return value.get_username() if value else ""  # the CSV names the account, which a name may not tell apart

    def render_status(self, value: str, record: ImportRun) -> str:
        return record.get_status_display()

    def render_error_count(self, value: list) -> int:
        return len(value)

    def value_error_count(self, value: list) -> int:
        return len(value)

    order_actor = ordered_ignoring_case("actor__last_name", "actor__first_name", "actor__username")
    order_filename = ordered_ignoring_case("filename")


class ImportRunListView(ListPageView):
    permission_required = "portfolio.view_importrun"
    table_class = ImportRunTable
    template_name = "portfolio/import_list.html"
    table_pagination: ClassVar[dict[str, int]] = {"per_page": 50}
    export_name = "imports"
    title = "Imports"
    intro = "Every import of the initiative inventory: who ran it, on which file, and what it did or why it failed."

    def get_queryset(self) -> QuerySet[ImportRun]:
        return ImportRun.objects.select_related("actor")


class ImportForm(forms.Form):
    file = forms.FileField(
        label="Inventory file (.csv, UTF-8, at most 5 MB)",
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
    )
    dry_run = forms.BooleanField(
        label="Dry run: check the file and show what would change, without writing anything", required=False
    )

    def clean_file(self) -> UploadedFile:
        upload: UploadedFile = self.cleaned_data["file"]
        if not (upload.name or "").lower().endswith(".csv"):
            raise ValidationError("Upload a .csv file (in Excel: Save as → CSV UTF-8).")
        if upload.size is not None and upload.size > MAX_FILE_BYTES:
            raise ValidationError(f"The file is {upload.size / 1024 / 1024:.1f} MB; the limit is 5 MB.")
        return upload


class ImportCreateView(PermissionRequiredMixin, FormView):
    permission_required = "portfolio.import_initiatives"
    form_class = ImportForm
    template_name = "portfolio/import_form.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return super().get_context_data(
            header_line=HEADER_LINE, columns=COLUMNS, list_separator=LIST_SEPARATOR, **kwargs
        )

    def form_valid(self, form: ImportForm) -> HttpResponse:
        upload: UploadedFile = form.cleaned_data["file"]
        try:
            run = import_run_submit(
                actor=request_actor(self.request),
                filename=upload.name or "inventory.csv",
                content=upload.read(),
                dry_run=form.cleaned_data["dry_run"],
                trigger=RunTrigger.USER,
            )
        except ValidationError as exc:  # the upload could not be stored (a full upload folder)
            form_add_service_errors(form, exc)
            return self.form_invalid(form)
        return HttpResponseRedirect(run.get_absolute_url())


class ImportRunDetailView(PermissionRequiredMixin, DetailView):
    permission_required = "portfolio.view_importrun"
    model = ImportRun
    template_name = "portfolio/import_detail.html"
    context_object_name = "run"

    def get_permission_object(self) -> None:
        # The permission is role-wide; an unknown id is a 404 after the role check.
        return None

    def get_queryset(self) -> QuerySet[ImportRun]:
        return ImportRun.objects.select_related("actor")

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        run: ImportRun = self.object
        in_progress = run.status in (RunStatus.PENDING, RunStatus.RUNNING)
        succeeded = run.status == RunStatus.SUCCEEDED
        lists = []
        if succeeded and not run.dry_run:
            imported = selectors.import_run_initiatives(run)
            lists = [("Created", imported.created, imported.created_total, "imported-created"),
                     ("Changed", imported.changed, imported.changed_total, "imported-changed")]
        # New owners cannot sign in until invited: the page says so and links to the People page's "Invite".
        without_password = (selectors.import_run_people_without_password(run)
                            if succeeded and settings.PASSWORD_LOGIN and may(self.request.user,
                                                                             "portfolio.manage_people") else 0)
        return super().get_context_data(
            in_progress=in_progress,
            succeeded=succeeded,
            people_without_password=without_password,
            pools_without_price=(selectors.import_run_pools_without_price(run)
                                 if succeeded and not run.dry_run else []),
            can_price_pools=may(self.request.user, "portfolio.change_licencepool"),
            failed=run.status == RunStatus.FAILED,
            imported_lists=lists,
            new_references=[
                (label, run.new_references[kind]) for kind, label in NEW_REFERENCE_KINDS if kind in run.new_references
            ] if succeeded else [],
            **kwargs,
        )
