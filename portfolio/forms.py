"""Forms of the initiative page: the initiative, its business case and its KPIs, edited together.

Forms only validate and shape input; the writes go through portfolio.services, called by the view.
"""

from __future__ import annotations

import json
from typing import Any, cast

from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.forms import BaseModelFormSet, modelformset_factory
from django.forms.models import construct_instance
from django.utils.text import capfirst
from django_select2.forms import Select2MultipleWidget, Select2Widget

from portfolio.choices import ACTIVE_STAGES, KPI_VALUE_PER_UNIT_LABELS
from portfolio.models import KPI, AIModel, BusinessCase, CostCenter, Department, Initiative, LicencePool, Vendor
from portfolio.models.base import KPI_FIGURE_MESSAGES
from portfolio.selectors import handover_candidates, people_who_may_own
from portfolio.services.initiatives import (
    BUSINESS_CASE_FIELDS,
    DELEGATES_READ_ONLY,
    KPI_FIELDS,
    START_DATE_READ_ONLY,
    cost_center_check,
)
from portfolio.services.licences import POOL_FIELDS as LICENCE_POOL_FIELDS
from portfolio.services.people import INTEGRATION_ROLES, person_create_errors
from portfolio.services.reference import AI_MODEL_FIELDS, DEPARTMENT_CODE_HELP, DEPARTMENT_CODE_INVALID
from tollgate.formatting import money_label
from tollgate.roles import Role, is_admin, may

User = get_user_model()

BUSINESS_CASE_PREFIX = "bc"
KPI_PREFIX = "kpis"


def person_label(user) -> str:
    name = user.get_full_name()
    return f"{name} <{user.email}>" if name and user.email else (name or user.get_username())


class PersonChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return person_label(obj)


class HandOverChoiceField(PersonChoiceField):
    """Offers those who may take over, and takes anyone who exists, so that the hand-over service says why someone
    else may not (already theirs, an executive, has left) rather than "Select a valid choice"."""

    def to_python(self, value: Any) -> Any:
        if value in self.empty_values:
            return None
        try:
            return User.objects.get(pk=value)
        except (ValueError, TypeError, User.DoesNotExist):
            raise forms.ValidationError(self.error_messages["invalid_choice"], code="invalid_choice") from None


class PeopleChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj) -> str:
        return person_label(obj)


# Select2 and jQuery come from django.contrib.admin's static files (django-select2's default), served by the app.
JQUERY = "admin/js/vendor/jquery/jquery.min.js"


class JQueryFirstMixin:
    """django-select2 leaves jQuery to the page: the widget's media puts the admin's copy before Select2."""

    @property
    def media(self) -> forms.Media:
        return forms.Media(js=[JQUERY]) + super().media  # type: ignore[misc]


class SearchableSelect(JQueryFirstMixin, Select2Widget):
    """One choice among many, typed to search (falls back to a plain select without JavaScript)."""


class SearchableSelectMultiple(JQueryFirstMixin, Select2MultipleWidget):
    """Several choices among many, typed to search, shown as removable tags; no Ctrl-click."""


def searchable_attrs(placeholder: str) -> dict[str, str]:
    return {"data-placeholder": placeholder, "data-width": "100%"}


class CostCenterSelect(forms.Select):
    """Each option names its department (data-department), so the page lists only the chosen department's cost
    centers (static/js/initiative_form.js); the service refuses any other."""

    def create_option(self, name: str, value: Any, label: Any, selected: Any, index: int, subindex: int | None = None,
                      attrs: dict[str, Any] | None = None) -> dict[str, Any]:
        option = super().create_option(name, value, label, selected, index, subindex=subindex, attrs=attrs)
        instance = getattr(value, "instance", None)
        if instance is not None:
            option["attrs"]["data-department"] = str(instance.department_id)
        return option


class CostCenterChoiceField(forms.ModelChoiceField):
    widget = CostCenterSelect

    def label_from_instance(self, obj: CostCenter) -> str:
        return f"{obj.code} · {obj.name} ({obj.department.name})"


class AIModelChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: AIModel) -> str:
        return f"{obj.name} · {obj.provider.name} ({obj.get_tier_display()})"


def _people() -> Any:
    return User.objects.filter(is_active=True).order_by("last_name", "first_name", "username")


class InitiativeForm(forms.ModelForm):
    """What an owner declares about an initiative. The stage is not here: it moves only through governance."""

    cost_center = CostCenterChoiceField(
        queryset=CostCenter.objects.select_related("department").order_by("code"),
        required=False,
        help_text="The cost center that pays: one of the department's (the list follows the department).",
    )
    vendors = forms.ModelMultipleChoiceField(
        queryset=Vendor.objects.order_by("name"),
        required=False,
        widget=SearchableSelectMultiple(attrs=searchable_attrs("Type a vendor's name")),
        help_text="Companies you buy from for this initiative. Type to search; pick as many as apply.",
    )
    ai_models = AIModelChoiceField(
        queryset=AIModel.objects.select_related("provider").order_by("provider__name", "name"),
        required=False,
        label="Models",
        widget=SearchableSelectMultiple(attrs=searchable_attrs("Type a model or its provider")),
        help_text="Models the initiative calls. Type to search; pick as many as apply.",
    )
    delegates = PeopleChoiceField(
        queryset=_people(),
        required=False,
        widget=SearchableSelectMultiple(attrs=searchable_attrs("Type a name or an e-mail")),
        help_text="People who may edit and report on this initiative on the owner's behalf.",
    )
    owner = PersonChoiceField(
        # An integration account may be a delegate, never the owner (people_check): it is not offered.
        queryset=people_who_may_own().order_by("last_name", "first_name", "username"),
        required=False,
        empty_label="— me —",
        widget=SearchableSelect(attrs=searchable_attrs("— me —")),
        help_text="Administrators only. Leave empty to keep the current owner (or to own a new initiative yourself).",
    )
    tags = forms.CharField(
        required=False,
        max_length=500,
        help_text="Comma-separated labels, e.g. gdpr, customer-facing.",
    )

    class Meta:
        model = Initiative
        fields = (
            "name", "description", "category", "department", "cost_center", "owner", "start_date", "vendors",
            "ai_models", "delegates", "tags", "declared_monthly_cost",
        )
        labels = {"description": "Purpose", "declared_monthly_cost": money_label("Declared monthly cost")}
        help_texts = {
            "name": "A short name people will recognise, e.g. 'Support ticket summariser'.",
            "description": "What the initiative does and for whom.",
            "category": "The use-case category; used to spot duplicates across departments.",
            "department": "The business unit that runs the initiative.",
            "start_date": "When work started or will start.",
            "declared_monthly_cost": "What you expect the initiative to cost per month, all in.",
        }
        widgets = {
            "description": forms.Textarea(attrs={"rows": 3}),
            "start_date": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        }

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["department"]).queryset = Department.objects.order_by("name")
        # On a new install the department list is empty: the page says where departments come from.
        self.no_departments = not Department.objects.exists()
        self.may_add_department = may(user, "portfolio.add_department")
        self.may_import = may(user, "portfolio.import_initiatives")
        if not is_admin(user):
            del self.fields["owner"]
        if self.instance.pk and not may(user, "portfolio.manage_initiative_delegates", self.instance):
            # A delegate sees who else acts for the initiative; the service would refuse a change anyway.
            self.fields["delegates"].disabled = True
            self.fields["delegates"].help_text = DELEGATES_READ_ONLY
        if self.instance.pk and self.instance.stage in ACTIVE_STAGES:
            # Once approved the start date decides which months count: the owner and delegates see it read-only, an
            # administrator or CoE reviewer changes it with a reason (the service refuses anything else anyway).
            if may(user, "portfolio.change_start_date", self.instance):
                self.fields["start_date_reason"] = forms.CharField(
                    required=False, max_length=500, label="Reason for changing the start date",
                    help_text="Required when you change the start date of an approved initiative; kept in the audit "
                              "trail. The start date may not move past its first month with cost records or the "
                              "period of its first submitted value report.")
            else:
                self.fields["start_date"].disabled = True
                self.fields["start_date"].help_text = START_DATE_READ_ONLY
        if self.instance.pk:
            self.initial["tags"] = ", ".join(self.instance.tags or [])
            if "owner" in self.fields:
                cast(forms.ModelChoiceField, self.fields["owner"]).empty_label = "— keep current owner —"

    def clean_tags(self) -> list[str]:
        raw = self.cleaned_data.get("tags") or ""
        return sorted({tag.strip() for tag in raw.split(",") if tag.strip()})

    def clean(self) -> dict[str, Any]:
        """The service's cost-center rule, checked here too so its error shows with the form's other errors."""
        cleaned = super().clean() or {}
        department, cost_center = cleaned.get("department"), cleaned.get("cost_center")
        if department is not None and cost_center is not None:
            try:
                cost_center_check(department=department, cost_center=cost_center)
            except ValidationError as error:
                self.add_error(None, error)
        return cleaned

    def service_kwargs(self) -> dict[str, Any]:
        """cleaned_data as keyword arguments of initiative_create / initiative_update; no owner means unchanged."""
        values = {name: self.cleaned_data[name] for name in self.Meta.fields if name in self.cleaned_data}
        if values.get("owner") is None:
            values.pop("owner", None)
        for relation in ("vendors", "ai_models", "delegates"):
            values[relation] = list(values[relation])
        if self.cleaned_data.get("start_date_reason"):
            values["start_date_reason"] = self.cleaned_data["start_date_reason"]
        return values


class StartDateChangeForm(forms.Form):
    """A running initiative's new start date and why (portfolio.services.initiative_start_date_change checks the rest:
    who may, and not later than its first month with cost records or its first submitted report's period)."""

    start_date = forms.DateField(
        label="New start date", widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text="It decides which months and quarters count for the initiative's cost, reports and signals. It may "
                  "not move later than its first month with cost records or the period of its first submitted value "
                  "report.")
    reason = forms.CharField(
        max_length=500, widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Why the start date changes (for example, the contract's real start): kept in the audit trail.")

class BusinessCaseForm(forms.ModelForm):
    """The case made before money is spent: baseline, expected volume and value, and the monthly TCO split."""

    class Meta:
        model = BusinessCase
        fields = BUSINESS_CASE_FIELDS
        labels = {
            "problem": "Problem it solves",
            "baseline_cost_per_outcome": money_label("Baseline cost per outcome today"),
            "expected_monthly_value": money_label("Expected value per month"),
            "tco_inference": money_label("Inference / API per month"),
            "tco_compute": money_label("Compute / GPU per month"),
            "tco_storage": money_label("Storage per month"),
            "tco_licences": money_label("Licences per month"),
            "tco_maintenance": money_label("Maintenance per month"),
            "loaded_hourly_rate": money_label("Loaded hourly rate"),
        }
        help_texts = {
            "problem": "The business problem, in the business's words.",
            "process_replaced": "How the work is done today, without AI.",
            "baseline_cost_per_outcome": "What one outcome costs today; the AI cost per outcome is compared to it.",
            "targets": "Measurable targets, e.g. 'handle time -30% by Q3'.",
            "oversight_hours_per_month": "Hours people spend checking or correcting the AI each month.",
            "loaded_hourly_rate": "Fully loaded cost of one hour of those people (salary, overhead).",
            "expected_monthly_value": "Savings or revenue per month once at scale.",
            "success_criteria": "What must be true at the review for the initiative to continue.",
        }
        widgets = {
            "problem": forms.Textarea(attrs={"rows": 3}),
            "process_replaced": forms.Textarea(attrs={"rows": 2}),
            "targets": forms.Textarea(attrs={"rows": 2}),
            "success_criteria": forms.Textarea(attrs={"rows": 2}),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", BUSINESS_CASE_PREFIX)
        # An initiative without a business case may be saved without one: left as drawn, the part is not validated
        # and creates nothing (untouched).
        instance = kwargs.get("instance")
        kwargs.setdefault("empty_permitted", instance is None or instance.pk is None)
        kwargs.setdefault("use_required_attribute", False)
        super().__init__(*args, **kwargs)

    def untouched(self) -> bool:
        """No business case yet and nothing typed into its part of the form: saving must not create an empty one
        (every amount $0.00), which would replace the declared monthly cost the initiative is estimated from."""
        return self.instance.pk is None and not self.has_changed()

    def service_kwargs(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in BUSINESS_CASE_FIELDS}


class KPIForm(forms.ModelForm):
    """A KPI and how its improvement becomes money: the kind says what `value_per_unit` means."""

    class Meta:
        model = KPI
        fields = KPI_FIELDS
        labels = {"value_per_unit": money_label("Value per unit / per point")}
        error_messages = {"baseline": KPI_FIGURE_MESSAGES, "target": KPI_FIGURE_MESSAGES}
        help_texts = {
            "unit": "e.g. minutes per e-mail, %, tickets. A KPI in % (or percent) stays between 0 and 100.",
            "kind": "Count: tickets deflected. Per outcome: minutes per e-mail, valued on each report's outcomes. "
                    "Ratio or score: %, CSAT, NPS. Stated: the owner states the value with evidence in each report.",
            "value_per_unit": "Count: the value of one unit (e.g. per ticket deflected). Per outcome: the value of one "
                              "unit saved on each outcome (e.g. 0.75 per minute). Ratio or score: the value of one "
                              "point, empty when it has no money value. Stated: leave empty.",
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The page relabels value_per_unit by the chosen kind (static/js/kpi_kind.js).
        labels = {kind: capfirst(str(text)) if text else "No value per unit: stated in each report"
                  for kind, text in KPI_VALUE_PER_UNIT_LABELS.items()}
        self.fields["kind"].widget.attrs["data-value-labels"] = json.dumps(labels)


class BaseKPIFormSet(BaseModelFormSet):
    def service_rows(self) -> list[dict[str, Any]]:
        """Rows for kpis_replace: kept forms with their id (None for new ones); deleted and blank extras left out."""
        rows = []
        for form in self.forms:
            if form in self.deleted_forms or not form.cleaned_data:
                continue
            if form.instance.pk is None and not form.has_changed():
                continue
            rows.append({"id": form.instance.pk, **{name: form.cleaned_data[name] for name in KPI_FIELDS}})
        return rows


# The stubs type a factory-made formset as BaseModelFormSet whatever `formset=` says.
KPIFormSet = cast(
    type[BaseKPIFormSet], modelformset_factory(KPI, form=KPIForm, formset=BaseKPIFormSet, extra=2, can_delete=True)
)


def kpi_formset(*, initiative: Initiative | None, data: Any = None) -> BaseKPIFormSet:
    queryset = initiative.kpis.order_by("pk") if initiative is not None else KPI.objects.none()
    return KPIFormSet(data=data, queryset=queryset, prefix=KPI_PREFIX)


class PersonCreateForm(forms.Form):
    """Someone an administrator adds by hand; portfolio.services.people.person_create refuses an e-mail address that
    already has an account and writes it."""

    email = forms.EmailField(label="E-mail", help_text="Their username too.")
    first_name = forms.CharField(max_length=150)
    last_name = forms.CharField(max_length=150)
    roles = forms.TypedMultipleChoiceField(choices=Role.choices, coerce=Role, required=False,
                                           widget=forms.CheckboxSelectMultiple,
                                           help_text="What the person may do in Tollgate: at least one.")
    department = forms.ModelChoiceField(queryset=Department.objects.order_by("name"), required=False,
                                        empty_label="— none —")
    title = forms.CharField(max_length=160, required=False)
    invite = forms.BooleanField(label="E-mail them an invitation", required=False, initial=True,
                                help_text="A link to set their password. Without it, they sign in with single "
                                          "sign-on, or you send the invitation later from their page.")

    def __init__(self, *args: Any, passwords: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not passwords:  # single sign-on only: there is no password to invite anyone to set
            del self.fields["invite"]

    def clean(self) -> dict[str, Any]:
        """The service's checks on the fields that parsed, so a bad e-mail address does not hide a missing role."""
        cleaned = super().clean() or {}
        errors = person_create_errors(email=cleaned.get("email"), roles=cleaned.get("roles"))
        for name, message in errors.items():
            self.add_error(name, message)
        return cleaned


class IntegrationAccountCreateForm(forms.Form):
    """An account for a script or tool (portfolio.services.people.integration_account_create checks and writes it):
    no e-mail address, no password, no invitation; only the roles an integration account may hold are offered."""

    username = forms.CharField(max_length=150, help_text="What the audit trail knows it by, e.g. bi-export: letters, "
                                                         "digits and . - _ (not an e-mail address).")
    name = forms.CharField(max_length=150, help_text="The script or tool that uses it, e.g. Nightly BI export.")
    roles = forms.TypedMultipleChoiceField(
        choices=[(role.value, role.label) for role in INTEGRATION_ROLES], coerce=Role, required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Executive to read everything (a dashboard, a BI tool), Initiative owner to keep up the initiatives "
                  "it owns. Never a CoE reviewer or an administrator: a person answers for those.")
    department = forms.ModelChoiceField(queryset=Department.objects.order_by("name"), required=False,
                                        empty_label="— none —")
    title = forms.CharField(label="Purpose", max_length=160, required=False,
                            help_text="What the script does and who looks after it.")


class HandOverForm(forms.Form):
    """To whom someone's running and planned initiatives go (portfolio.services.people.initiatives_hand_over)."""

    to = HandOverChoiceField(queryset=User.objects.none(), label="Hand over to", empty_label="— choose —",
                             help_text="An active initiative owner or administrator.")
    # Set by the confirmation page's button: the first post shows what would move, the second moves it.
    confirm = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, person: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(PersonChoiceField, self.fields["to"]).queryset = handover_candidates(person)


class PersonForm(forms.Form):
    """What an administrator sets for a person on the People page; portfolio.services.people.person_update checks
    the rules (nobody locks themselves out, nobody is their own delegate) and writes it."""

    roles = forms.TypedMultipleChoiceField(choices=Role.choices, coerce=Role, required=False,
                                           widget=forms.CheckboxSelectMultiple,
                                           help_text="What the person may do in Tollgate: at least one while the "
                                                     "account is active (without one they would see nothing).")
    is_active = forms.BooleanField(label="Active", required=False,
                                   help_text="Untick when someone leaves: they can no longer sign in, and what they "
                                             "own stays theirs until it is handed over.")
    department = forms.ModelChoiceField(queryset=Department.objects.order_by("name"), required=False,
                                        empty_label="— none —")
    title = forms.CharField(max_length=160, required=False)
    delegates = PeopleChoiceField(
        queryset=_people(), required=False,
        widget=SearchableSelectMultiple(attrs=searchable_attrs("Type a name or an e-mail")),
        help_text="They act for this person on every initiative the person owns.",
    )
    integration_account = forms.BooleanField(
        label="Integration account", required=False,
        help_text="A script or tool uses this account: nobody signs in to it, and administrators issue its API "
                  "tokens. Only for an account nobody has signed in to, with no password and no invitation, that is "
                  "not a CoE reviewer or an administrator. Unticking makes it a person's and revokes its API tokens.")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Anyone active, and the delegates already named (one who has since left can still be kept or removed).
        named = [person.pk for person in self.initial.get("delegates", [])]
        field = cast(PeopleChoiceField, self.fields["delegates"])
        field.queryset = User.objects.filter(Q(is_active=True) | Q(pk__in=named)).order_by("last_name", "first_name",
                                                                                         "username")


class ServiceCheckedModelForm(forms.ModelForm):
    """A reference record's form whose uniqueness and database constraints are left to its service, which names the
    field and the record a key clashes with ("The vendor “OpenAI” already exists ..."); Django's own check would
    answer first with the constraint's form-wide sentence and the service's message would never show."""

    # ModelForm's own _post_clean, but without the constraints; the stubs do not declare its private helpers.
    def _post_clean(self) -> None:
        exclude = self._get_validation_exclusions()  # type: ignore[attr-defined]
        try:
            self.instance = construct_instance(self, self.instance, self._meta.fields, self._meta.exclude)
            self.instance.full_clean(exclude=exclude, validate_unique=False, validate_constraints=False)
        except ValidationError as error:
            self._update_errors(error)  # type: ignore[attr-defined]


class DepartmentForm(ServiceCheckedModelForm):
    """A department as administrators add or edit it; saved by department_save."""

    head = PersonChoiceField(queryset=_people(), required=False,
                             help_text="Receives escalations for the department's initiatives.")

    class Meta:
        model = Department
        fields = ("name", "code", "head")
        help_texts = {"name": "As people call it, e.g. 'Customer Service'.", "code": DEPARTMENT_CODE_HELP}
        error_messages = {"code": {"invalid": DEPARTMENT_CODE_INVALID}}  # what the help says, naming the value


class CostCenterForm(ServiceCheckedModelForm):
    """A cost center as administrators add or edit it; saved by cost_center_save."""

    budget_owner = PersonChoiceField(queryset=_people(), required=False,
                                     help_text="Who answers for the cost center's budget.")
    move_initiatives = forms.BooleanField(
        label="Move its initiatives too", required=False,
        help_text="When the department changes: the initiatives billed to this cost center move to the new "
                  "department with it (each change recorded on the initiative). Without it, such a move is refused.",
    )

    class Meta:
        model = CostCenter
        fields = ("code", "name", "department", "budget_owner")
        help_texts = {"code": "The code in the ledger and in cost exports, e.g. CC-FIN-200.",
                      "department": "The department it belongs to; initiatives of that department may use it."}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["department"]).queryset = Department.objects.order_by("name")
        if self.instance.pk is None:
            del self.fields["move_initiatives"]  # a new cost center has no initiatives to move


class VendorForm(ServiceCheckedModelForm):
    """A vendor as administrators add or edit it; saved by vendor_save."""

    # A website typed without a scheme is taken as https, as in the Django admin.
    website = forms.URLField(required=False, max_length=200, assume_scheme="https",
                             help_text="Optional, e.g. https://openai.com; typed without https:// it is added.")

    class Meta:
        model = Vendor
        fields = ("name", "website")
        help_texts = {"name": "As the company is known, e.g. 'OpenAI'. Unique whatever its letter case."}


class VendorChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Vendor) -> str:
        return obj.name


class SubstituteChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: AIModel) -> str:
        return f"{obj.name} · {obj.provider.name} ({obj.get_tier_display()})"


class AIModelForm(ServiceCheckedModelForm):
    """A catalogue entry as administrators add or edit it; saved by ai_model_save (which checks the substitute's
    tier against the tier given)."""

    provider = VendorChoiceField(queryset=Vendor.objects.order_by("name"),
                                 help_text="The vendor that serves the model; add it on the Vendors page first.")
    substitute = SubstituteChoiceField(
        queryset=AIModel.objects.none(), required=False, empty_label="— none —",
        label="Acceptable cheaper substitute",
        help_text="A cheaper text model of a lower tier that can do this model's work; usage of this model then "
                  "becomes a right-sizing candidate.")

    class Meta:
        model = AIModel
        fields = AI_MODEL_FIELDS
        labels = {"input_price_per_mtok": money_label("Input price per 1M tokens"),
                  "output_price_per_mtok": money_label("Output price per 1M tokens"),
                  "context_window": "Context window (tokens)"}
        help_texts = {
            "name": "The model's name at its provider, e.g. 'gpt-4o-mini'; unique per provider whatever its case.",
            "tier": "Its size class; right-sizing compares a model with cheaper tiers.",
            "input_price_per_mtok": "The list price of one million input tokens; empty when unknown.",
            "output_price_per_mtok": "The list price of one million output tokens; empty when unknown.",
            "open_weights": "Tick when the weights are published, so it could be self-hosted.",
            "context_window": "How many tokens it reads at once; empty when unknown.",
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        others = AIModel.objects.select_related("provider").order_by("provider__name", "name")
        if self.instance.pk:
            others = others.exclude(pk=self.instance.pk)
        cast(forms.ModelChoiceField, self.fields["substitute"]).queryset = others


class InitiativeChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Initiative) -> str:
        return f"{obj.external_id} · {obj.name}"


class LicencePoolForm(forms.ModelForm):
    """A licence pool as administrators buy or adjust it; saved by licence_pool_save. New seats, price or initiative
    apply from `effective_from` on, so the months before keep the cost they had."""

    vendor = VendorChoiceField(queryset=Vendor.objects.order_by("name"), help_text="Who sells the seats.")
    initiative = InitiativeChoiceField(
        # No empty_label: the searchable select's own blank option (cleared with its ×) is "no initiative".
        queryset=Initiative.objects.order_by("external_id"), required=False, empty_label=None,
        widget=SearchableSelect(attrs=searchable_attrs("— no initiative —")),
        help_text="The initiative the seats serve: seats × price is its licence cost each month. Without one, the "
                  "pool is nobody's cost.")
    effective_from = forms.DateField(
        label="Effective from (month)", input_formats=["%Y-%m", "%Y-%m-%d"],
        widget=forms.DateInput(format="%Y-%m", attrs={"type": "month"}),
        help_text="The month new seats, price or initiative apply from; earlier months keep their cost. Choose the "
                  "pool's first month to correct a mistake throughout. For a new pool: the month it charges from.",
        error_messages={"required": "Give the month the terms apply from, as YYYY-MM (e.g. 2026-03).",
                        "invalid": "Give the month the terms apply from, as YYYY-MM (e.g. 2026-03)."})

    class Meta:
        model = LicencePool
        fields = LICENCE_POOL_FIELDS
        labels = {"seats_purchased": "Seats purchased",
                  "price_per_seat_month": money_label("Price per seat per month")}
        help_texts = {"tool": "The seat-based tool, e.g. 'GitHub Copilot Business'.",
                      "seats_purchased": "Seats bought, whether assigned or not."}

    def __init__(self, *args: Any, month: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["effective_from"].initial = month

    def service_kwargs(self) -> dict[str, Any]:
        """cleaned_data as keyword arguments of licence_pool_save."""
        return {name: self.cleaned_data[name] for name in (*LICENCE_POOL_FIELDS, "effective_from")}
