"""Contacts and companies, linked many-to-many with the contact's role at each (seed 003), plus
the tags both carry. Seed 001's Contact (``name``, ``role``, ``company``, ``last_contacted``) is
served from the same rows.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone

from crm.ids import uuid7


class Tag(models.Model):
    """A label on contacts and companies; ``name`` is stored lower-cased and unique."""

    name = models.CharField(max_length=50, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class CompanyQuerySet(models.QuerySet):
    def live(self):
        return self.filter(deleted_at__isnull=True)


class Company(models.Model):
    """An account. ``domain`` is the bare host (``acme.com``); ``live_domain`` is that domain
    while the company is live and NULL once deleted, so its unique index enforces "one live
    company per domain" on MySQL, which has no partial unique indexes. ``phone`` is E.164."""

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    name = models.CharField(max_length=200)
    domain = models.CharField(max_length=253, blank=True, default="")
    live_domain = models.CharField(max_length=253, null=True, blank=True, unique=True, editable=False)
    website = models.URLField(max_length=300, blank=True, default="")
    industry = models.CharField(max_length=100, blank=True, default="")
    size = models.CharField(max_length=20, blank=True, default="", help_text="Head-count band, e.g. 11-50")
    phone = models.CharField(max_length=20, blank=True, default="")
    address = models.TextField(blank=True, default="")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="companies"
    )
    tags = models.ManyToManyField(Tag, blank=True, related_name="companies")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    deleted_at = models.DateTimeField(null=True, blank=True)

    objects = CompanyQuerySet.as_manager()

    class Meta:
        ordering = ["name", "id"]
        verbose_name_plural = "companies"
        indexes = [
            models.Index(fields=["deleted_at", "name"], name="company_live_name"),
            models.Index(fields=["deleted_at", "created_at"], name="company_live_created"),
            models.Index(fields=["owner", "deleted_at"], name="company_owner"),
            models.Index(fields=["domain"], name="company_domain"),
        ]

    def __str__(self) -> str:
        return self.name

    def sync_live_domain(self) -> None:
        domain = (self.domain or "").strip().lower()
        self.live_domain = domain if domain and self.deleted_at is None else None

    def save(self, *args, **kwargs):
        self.sync_live_domain()
        if kwargs.get("update_fields") is not None:
            kwargs["update_fields"] = {*kwargs["update_fields"], "live_domain", "updated_at"}
        super().save(*args, **kwargs)


class ContactQuerySet(models.QuerySet):
    def live(self):
        return self.filter(deleted_at__isnull=True)


class Contact(models.Model):
    """A person the team works with. ``phone`` is E.164 with ``phone_extension`` apart;
    ``last_contacted`` follows the newest timeline entry; ``primary_company`` is one of
    ``companies`` (the many-to-many through :class:`ContactCompany`, which holds the role).
    Email is not unique: a duplicate warns and may be created anyway (issue 3), so it is an index.
    ``merged_into`` points at the survivor once this contact has been merged away."""

    class Status(models.TextChoices):
        NEW = "new", "New"
        ACTIVE = "active", "Active"
        QUALIFIED = "qualified", "Qualified"
        CUSTOMER = "customer", "Customer"
        INACTIVE = "inactive", "Inactive"

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    first_name = models.CharField(max_length=150)
    last_name = models.CharField(max_length=150, blank=True, default="")
    email = models.EmailField(blank=True, default="")
    phone = models.CharField(max_length=20, blank=True, default="")
    phone_extension = models.CharField(max_length=10, blank=True, default="")
    job_title = models.CharField(max_length=150, blank=True, default="")
    role = models.CharField(max_length=100, blank=True, default="", help_text="e.g. decision maker")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.NEW)
    notes = models.TextField(blank=True, default="")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="contacts"
    )
    primary_company = models.ForeignKey(
        Company, null=True, blank=True, on_delete=models.SET_NULL, related_name="primary_contacts"
    )
    companies = models.ManyToManyField(Company, through="ContactCompany", blank=True, related_name="contacts")
    tags = models.ManyToManyField(Tag, blank=True, related_name="contacts")
    last_contacted = models.DateTimeField(null=True, blank=True)
    merged_into = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    deleted_at = models.DateTimeField(null=True, blank=True)

    objects = ContactQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["deleted_at", "created_at", "id"], name="contact_live_created"),
            models.Index(fields=["deleted_at", "last_name", "first_name"], name="contact_live_name"),
            models.Index(fields=["deleted_at", "last_contacted"], name="contact_live_contacted"),
            models.Index(fields=["status", "deleted_at", "created_at"], name="contact_status_created"),
            models.Index(fields=["owner", "deleted_at", "created_at"], name="contact_owner_created"),
            models.Index(fields=["primary_company", "deleted_at"], name="contact_primary_company"),
            models.Index(fields=["email"], name="contact_email"),
            models.Index(fields=["phone"], name="contact_phone"),
            models.Index(fields=["first_name"], name="contact_first_name"),
            models.Index(fields=["last_name"], name="contact_last_name"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


class ContactCompany(models.Model):
    """A contact's link to a company, with their ``role`` there. One row per pair."""

    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="company_links")
    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="contact_links")
    role = models.CharField(max_length=100, blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["contact", "company"], name="contact_company_unique"),
        ]
        indexes = [models.Index(fields=["company", "contact"], name="company_contact")]

    def __str__(self) -> str:
        return f"{self.contact} @ {self.company}"
