"""The CSV import pages (seed 004 section 6, DESIGN.md decision 12; STYLE.md 6 and 11).

``/leads/import/`` uploads a file (with owner, source, phone region and calling agent) and
redirects to the job's page, which polls ``progress/`` with HTMX every second until the job
finishes, then shows the summary and the first 100 row errors with a CSV of all of them. Every
page goes through ``leads.imports``: the same checks, jobs and visibility as the API (a sales
user sees their own imports; managers and admins see all; anyone else's answers 404).
"""

from django import forms
from django.conf import settings
from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views import View

from crm.errors import ServiceError
from crm.models import User
from leads import imports
from leads.imports import FIELD_ALIASES
from leads.services import assignable_owners

RECENT_IMPORTS = 10


class ImportForm(forms.Form):
    """The upload form. Types and lengths only; ``leads.imports.import_create`` checks the file
    and who may own the leads, and its ServiceError lands on the field it names."""

    file = forms.FileField(label="CSV file", help_text="UTF-8 or Windows-1252; comma, semicolon or tab separated.",
                           widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}))
    owner = forms.ModelChoiceField(queryset=User.objects.none(), required=False, empty_label="Unassigned")
    source = forms.CharField(max_length=50, required=False, help_text="Used for rows without a Source column.")
    region = forms.CharField(max_length=2, required=False, label="Phone region",
                             help_text="Country of phones written without +country code, e.g. US, GB.")
    agent_id = forms.UUIDField(required=False, label="Calling agent id",
                               help_text="Optional: queue every lead for this AI calling agent.")

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = assignable_owners(user)
        self.fields["owner"].label_from_instance = lambda u: u.full_name
        self.fields["owner"].initial = user.pk
        self.fields["region"].widget.attrs["placeholder"] = settings.DEFAULT_PHONE_REGION

    def add_service_error(self, exc: ServiceError) -> None:
        self.add_error(exc.field if exc.field in self.fields else None, exc.detail)


def _job_or_404(request, pk):
    return get_object_or_404(imports.imports_visible_to(request.user).select_related("owner"), pk=pk)


def _progress_context(job) -> dict:
    context = {"job": job}
    if job.is_finished:
        context["errors"] = imports.import_errors(job)
    return context


class ImportNewView(LoginRequiredMixin, View):
    """``/leads/import/``: the upload form and the user's recent imports."""

    def _render(self, request, form, status=200):
        recent = imports.imports_visible_to(request.user).order_by("-created_at")[:RECENT_IMPORTS]
        columns = [(name, aliases) for name, aliases in FIELD_ALIASES.items()]
        return render(request, "leads/import_form.html",
                      {"form": form, "recent": recent, "columns": columns}, status=status)

    def get(self, request):
        return self._render(request, ImportForm(user=request.user))

    def post(self, request):
        form = ImportForm(request.POST, request.FILES, user=request.user)
        if form.is_valid():
            data = form.cleaned_data
            try:
                job = imports.import_create(
                    user=request.user, file=data["file"], owner=data["owner"], agent_id=data["agent_id"],
                    source=data["source"], region=data["region"],
                )
            except ServiceError as exc:
                form.add_service_error(exc)
            else:
                return redirect("leads:import_detail", pk=job.pk)
        return self._render(request, form, status=400)


class ImportDetailView(LoginRequiredMixin, View):
    """``/leads/import/<id>/``: progress while it runs; summary and row errors once finished."""

    def get(self, request, pk):
        job = _job_or_404(request, pk)
        return render(request, "leads/import_detail.html", _progress_context(job))


class ImportProgressView(LoginRequiredMixin, View):
    """The partial the detail page polls every second; it stops polling once the job finished."""

    def get(self, request, pk):
        job = _job_or_404(request, pk)
        return render(request, "leads/partials/_import_progress.html", _progress_context(job))


class ImportErrorsCSVView(LoginRequiredMixin, View):
    """Every row error of the job as a CSV download (``row,error``)."""

    def get(self, request, pk):
        job = _job_or_404(request, pk)
        response = StreamingHttpResponse(imports.import_errors_csv(job), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="import-{job.pk}-errors.csv"'
        return response
