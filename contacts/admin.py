"""Admin for tags, companies, contacts and their links.

Contacts and companies are written through ``contacts.services`` (STYLE.md 2): phones are
normalised, emails lower-cased, domains cleaned and kept unique among live companies, owners
checked. The admin may create a contact that duplicates another (it is the trusted door, and
duplicates are merged from the duplicates page). Deleting is soft, by action.
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.widgets import FilteredSelectMultiple

from contacts import services
from contacts.models import Company, Contact, ContactCompany, Tag
from crm.admin_filters import DeletedFilter
from crm.errors import ServiceError


class _ServiceForm(forms.ModelForm):
    """Runs the service on a throw-away copy in ``clean`` so a refused value shows on its field
    instead of a 500 when ``save_model`` calls the service for real."""

    request_user = None
    field_map = {"owner_id": "owner", "primary_company_id": "primary_company", "name": "first_name"}

    def service_data(self, changed_only: bool) -> dict:
        raise NotImplementedError

    def _service_error(self, exc: ServiceError) -> None:
        field = self.field_map.get(exc.field, exc.field)
        self.add_error(field if field in self.fields else None, exc.detail)


class ContactAdminForm(_ServiceForm):
    # Not the model's many-to-many field: tags are set by the service (which keeps the tag
    # counts and the links' contact_created_at), not by the form's save_m2m.
    tags = forms.ModelMultipleChoiceField(queryset=Tag.objects.all(), required=False,
                                          widget=FilteredSelectMultiple("tags", is_stacked=False))

    class Meta:
        model = Contact
        fields = ("first_name", "last_name", "email", "phone", "job_title", "role", "status", "notes", "owner",
                  "primary_company")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.initial.setdefault("tags", list(self.instance.tags.all()))

    def service_data(self, changed_only: bool) -> dict:
        names = self.changed_data if changed_only else [*self.Meta.fields, "tags"]
        data = {}
        for name in names:
            if name not in self.cleaned_data:
                continue
            value = self.cleaned_data[name]
            if name == "tags":
                value = [tag.name for tag in value]
            key = {"owner": "owner_id", "primary_company": "primary_company_id"}.get(name, name)
            data[key] = value
        return data

    def clean(self):
        cleaned = super().clean()
        if not self.errors and self.cleaned_data.get("phone"):
            try:
                services._parse_phone(self.cleaned_data["phone"], None)
            except ServiceError as exc:
                self._service_error(exc)
        if "owner" in self.changed_data:
            try:
                services.check_owner(self.request_user, cleaned.get("owner"))
            except ServiceError as exc:
                self._service_error(exc)
        return cleaned


class ContactCompanyInline(admin.TabularInline):
    model = ContactCompany
    extra = 0
    autocomplete_fields = ("company",)
    fields = ("company", "role", "created_at")
    readonly_fields = ("created_at",)


@admin.register(Contact)
class ContactAdmin(admin.ModelAdmin):
    form = ContactAdminForm
    list_display = ("name", "email", "phone", "status", "primary_company", "owner", "last_contacted", "created_at",
                    "deleted")
    list_filter = ("status", "owner", "tags", DeletedFilter)
    search_fields = ("^first_name", "^last_name", "^email", "^phone")
    list_select_related = ("owner", "primary_company")
    autocomplete_fields = ("owner", "primary_company")
    readonly_fields = ("phone_extension", "last_contacted", "merged_into", "created_at", "updated_at", "deleted_at")
    inlines = (ContactCompanyInline,)
    actions = ("soft_delete", "restore")
    ordering = ("-created_at", "-id")
    show_full_result_count = False

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        form.request_user = request.user
        return form

    @admin.display(description="Deleted", boolean=True, ordering="deleted_at")
    def deleted(self, obj):
        return obj.deleted_at is not None

    def save_model(self, request, obj, form, change):
        if change:
            saved = services.contact_update(contact=obj, user=request.user, allow_duplicate=True,
                                            **form.service_data(changed_only=True))
        else:
            saved = services.contact_create(user=request.user, allow_duplicate=True,
                                            **{"owner_id": None, **form.service_data(changed_only=False)})
        obj.pk = saved.pk
        obj._state.adding = False
        obj.refresh_from_db()

    def save_formset(self, request, form, formset, change):
        """The company-links inline links and unlinks through the services (counts, primary company)."""
        if formset.model is not ContactCompany:
            return super().save_formset(request, form, formset, change)
        _save_links(request, formset, contact=form.instance)

    @admin.action(description="Soft-delete selected contacts")
    def soft_delete(self, request, queryset):
        n = 0
        for contact in queryset.filter(deleted_at__isnull=True):
            services.contact_delete(contact=contact, user=request.user)
            n += 1
        self.message_user(request, f"Deleted {n} contact(s).", messages.SUCCESS)

    @admin.action(description="Restore selected contacts (not merged ones)")
    def restore(self, request, queryset):
        n = services.contacts_restore(user=request.user, pks=queryset.values_list("pk", flat=True))
        self.message_user(request, f"Restored {n} contact(s).", messages.SUCCESS)


class CompanyAdminForm(_ServiceForm):
    website = forms.URLField(max_length=300, required=False, assume_scheme="https")

    class Meta:
        model = Company
        fields = ("name", "domain", "website", "industry", "size", "phone", "address", "owner", "tags")

    def service_data(self, changed_only: bool) -> dict:
        names = self.changed_data if changed_only else list(self.Meta.fields)
        return {("owner_id" if n == "owner" else n): self.cleaned_data[n] for n in names
                if n in self.cleaned_data and n != "tags"}

    def clean(self):
        cleaned = super().clean()
        try:
            if "domain" in self.changed_data:
                domain = services.normalize_domain(cleaned.get("domain"))
                services._company_duplicate(domain, exclude_pk=self.instance.pk)
            if "phone" in self.changed_data and cleaned.get("phone"):
                services._parse_phone(cleaned["phone"], None)
            if "owner" in self.changed_data:
                services.check_owner(self.request_user, cleaned.get("owner"))
        except ServiceError as exc:
            self._service_error(exc)
        return cleaned


@admin.register(Company)
class CompanyAdmin(admin.ModelAdmin):
    form = CompanyAdminForm
    list_display = ("name", "domain", "industry", "size", "owner", "created_at", "deleted")
    list_filter = ("industry", "owner", "tags", DeletedFilter)
    search_fields = ("^name", "^domain")
    list_select_related = ("owner",)
    autocomplete_fields = ("owner",)
    filter_horizontal = ("tags",)
    readonly_fields = ("live_domain", "created_at", "updated_at", "deleted_at")
    actions = ("soft_delete",)
    show_full_result_count = False

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        form.request_user = request.user
        return form

    @admin.display(description="Deleted", boolean=True, ordering="deleted_at")
    def deleted(self, obj):
        return obj.deleted_at is not None

    def save_model(self, request, obj, form, change):
        if change:
            saved = services.company_update(company=obj, user=request.user, **form.service_data(changed_only=True))
        else:
            saved = services.company_create(user=request.user,
                                            **{"owner_id": None, **form.service_data(changed_only=False)})
        obj.pk = saved.pk
        obj._state.adding = False
        obj.refresh_from_db()

    @admin.action(description="Soft-delete selected companies")
    def soft_delete(self, request, queryset):
        n = 0
        for company in queryset.filter(deleted_at__isnull=True):
            services.company_delete(company=company, user=request.user)
            n += 1
        self.message_user(request, f"Deleted {n} compan(ies).", messages.SUCCESS)


def _save_links(request, formset, *, contact: Contact) -> None:
    links = formset.save(commit=False)
    for link in formset.deleted_objects:
        services.contact_unlink_company(contact=contact, company=link.company, user=request.user)
    for link in links:
        if link.pk:  # an existing row pointed at another company: that link goes
            before = ContactCompany.objects.get(pk=link.pk)
            if before.company_id != link.company_id:
                services.contact_unlink_company(contact=contact, company=before.company, user=request.user)
        services.contact_link_company(contact=contact, company=link.company, user=request.user, role=link.role)


@admin.register(ContactCompany)
class ContactCompanyAdmin(admin.ModelAdmin):
    """Links are made and removed through the services (counts, primary company)."""

    list_display = ("contact", "company", "role", "created_at")
    list_select_related = ("contact", "company")
    autocomplete_fields = ("contact", "company")
    search_fields = ("^contact__last_name", "^company__name", "role")
    show_full_result_count = False

    def save_model(self, request, obj, form, change):
        if change and {"contact", "company"} & set(form.changed_data):
            before = ContactCompany.objects.select_related("contact", "company").get(pk=obj.pk)
            services.contact_unlink_company(contact=before.contact, company=before.company, user=request.user)
        link, _ = services.contact_link_company(contact=obj.contact, company=obj.company, user=request.user,
                                                role=obj.role)
        obj.pk = link.pk
        obj._state.adding = False
        obj.refresh_from_db()

    def delete_model(self, request, obj):
        services.contact_unlink_company(contact=obj.contact, company=obj.company, user=request.user)

    def delete_queryset(self, request, queryset):
        for link in queryset.select_related("contact", "company"):
            self.delete_model(request, link)


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    list_display = ("name",)
    search_fields = ("^name",)

    def save_model(self, request, obj, form, change):
        obj.name = obj.name.strip().lower()
        super().save_model(request, obj, form, change)
