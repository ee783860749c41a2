"""Contact links ordered by their contact's age, and two more count rollups.

* ``Contact.tags`` gets an explicit link model, ``ContactTag``, on the table the automatic one
  had (``contacts_contact_tags``: no copy), so its rows can carry ``contact_created_at``;
  ``ContactCompany`` gets the same column. Both are filled from the contacts, then indexed
  (tag or company, contact_created_at, contact): a tag's or a company's contacts newest first
  straight from an index.
* ``ContactDayCount`` (owner, status, day) and ``ContactCompanyCount`` (company, owner), filled
  from the live contacts.
"""

import datetime

import django.db.models.deletion
from django.db import migrations, models
from django.db.models import Count, OuterRef, Subquery
from django.db.models.functions import TruncDate
from django.utils import timezone


def fill(apps, schema_editor):
    Contact = apps.get_model("contacts", "Contact")
    created = Subquery(Contact.objects.filter(pk=OuterRef("contact_id")).values("created_at")[:1])
    apps.get_model("contacts", "ContactTag").objects.update(contact_created_at=created)
    ContactCompany = apps.get_model("contacts", "ContactCompany")
    ContactCompany.objects.update(contact_created_at=created)
    live = Contact.objects.filter(deleted_at__isnull=True).order_by()
    ContactDayCount = apps.get_model("contacts", "ContactDayCount")
    ContactDayCount.objects.bulk_create(
        (ContactDayCount(owner_id=row["owner_id"] or 0, status=row["status"], day=row["day"], n=row["c"])
         for row in live.annotate(day=TruncDate("created_at", tzinfo=datetime.UTC))
         .values("owner_id", "status", "day").annotate(c=Count("pk"))), batch_size=2000)
    ContactCompanyCount = apps.get_model("contacts", "ContactCompanyCount")
    ContactCompanyCount.objects.bulk_create(
        (ContactCompanyCount(company_id=row["company_id"], owner_id=row["contact__owner_id"] or 0, n=row["c"])
         for row in ContactCompany.objects.filter(contact__deleted_at__isnull=True).order_by()
         .values("company_id", "contact__owner_id").annotate(c=Count("pk"))), batch_size=2000)


class Migration(migrations.Migration):

    dependencies = [
        ("contacts", "0003_contact_counts"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="ContactTag",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False,
                                                   verbose_name="ID")),
                        ("contact", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE,
                                                      related_name="tag_links", to="contacts.contact")),
                        ("tag", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE,
                                                  related_name="contact_links", to="contacts.tag")),
                    ],
                    options={
                        "db_table": "contacts_contact_tags",
                        "unique_together": {("contact", "tag")},
                    },
                ),
                migrations.AlterField(
                    model_name="contact",
                    name="tags",
                    field=models.ManyToManyField(blank=True, related_name="contacts", through="contacts.ContactTag",
                                                 to="contacts.tag"),
                ),
            ],
        ),
        migrations.AddField(
            model_name="contacttag",
            name="contact_created_at",
            field=models.DateTimeField(default=timezone.now, editable=False),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="contactcompany",
            name="contact_created_at",
            field=models.DateTimeField(default=timezone.now, editable=False),
            preserve_default=False,
        ),
        migrations.CreateModel(
            name="ContactDayCount",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("owner_id", models.BigIntegerField()),
                ("status", models.CharField(choices=[("new", "New"), ("active", "Active"), ("qualified", "Qualified"),
                                                     ("customer", "Customer"), ("inactive", "Inactive")],
                                            max_length=16)),
                ("day", models.DateField()),
                ("n", models.BigIntegerField(default=0)),
            ],
            options={
                "indexes": [models.Index(fields=["day", "owner_id", "status", "n"], name="contactdaycount_cover")],
                "constraints": [models.UniqueConstraint(fields=("owner_id", "status", "day"),
                                                        name="contactdaycount_owner_status_day")],
            },
        ),
        migrations.CreateModel(
            name="ContactCompanyCount",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("owner_id", models.BigIntegerField()),
                ("n", models.BigIntegerField(default=0)),
                ("company", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="+",
                                              to="contacts.company")),
            ],
            options={
                "constraints": [models.UniqueConstraint(fields=("company", "owner_id"),
                                                        name="contactcompanycount_company_owner")],
            },
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
        migrations.AddIndex(
            model_name="contacttag",
            index=models.Index(fields=["tag", "contact_created_at", "contact"], name="contact_tag_newest"),
        ),
        migrations.AddIndex(
            model_name="contactcompany",
            index=models.Index(fields=["company", "contact_created_at", "contact"], name="company_contact_newest"),
        ),
        migrations.RemoveIndex(
            model_name="contactcompany",
            name="company_contact",
        ),
    ]
