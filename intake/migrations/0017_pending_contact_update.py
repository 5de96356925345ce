"""Issue #24: the desk's patient search and a partner's contact details for a matched patient.

- Patient.name_key: the whole name folded in Python (intake.vocabulary.names.fold), filled here for the
  patients already registered; the search matches word starts in it with LIKE, on SQLite and
  PostgreSQL alike.
- On PostgreSQL, a trigram index (pg_trgm) on it serves the "a word starts inside the name" LIKE.
  CREATE EXTENSION needs the CREATE privilege on the database (pg_trgm is a trusted extension
  from PostgreSQL 13); without it the migration says so and goes on without the index: the
  search gives the same answers, by reading the table.
- An index on the MRN in upper case: MRNs are unique and searched whatever their case.
- PendingContactUpdate: contact details a partner sent that add to or differ from the record,
  kept for the desk (intake.contacts).
"""

import logging
import uuid

import django.db.models.deletion
import django.db.models.functions.text
from django.conf import settings
from django.db import migrations, models

log = logging.getLogger(__name__)

TRIGRAM_INDEX = "patient_name_key_trgm_idx"
CREATE_INDEX = (
    f"CREATE INDEX IF NOT EXISTS {TRIGRAM_INDEX} ON intake_patient USING gin (name_key gin_trgm_ops)"
)


def fill_name_keys(apps, schema_editor):
    from intake.vocabulary.names import name_key  # a pure function of the two names

    Patient = apps.get_model("intake", "Patient")
    batch = []
    for patient in Patient.objects.only("pk", "given_name", "family_name").iterator(chunk_size=2000):
        patient.name_key = name_key(patient.given_name, patient.family_name)
        batch.append(patient)
        if len(batch) == 2000:
            Patient.objects.bulk_update(batch, ["name_key"])
            batch = []
    Patient.objects.bulk_update(batch, ["name_key"])


def add_trigram_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    from django.db import DatabaseError, transaction

    try:
        with transaction.atomic():
            schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    except DatabaseError as error:
        log.warning(
            "pg_trgm could not be created (%s); the patient search works without its index. To add it, "
            "run as a database owner: CREATE EXTENSION pg_trgm; %s",
            error,
            CREATE_INDEX,
        )
        return
    schema_editor.execute(CREATE_INDEX)


def drop_trigram_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {TRIGRAM_INDEX}")


class Migration(migrations.Migration):
    dependencies = [
        ("intake", "0016_case_v3_fields"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="patient",
            name="name_key",
            field=models.CharField(blank=True, db_index=True, editable=False, max_length=300),
        ),
        migrations.RunPython(fill_name_keys, migrations.RunPython.noop),
        migrations.RunPython(add_trigram_index, drop_trigram_index),
        migrations.AddIndex(
            model_name="patient",
            index=models.Index(django.db.models.functions.text.Upper("mrn"), name="patient_mrn_upper_idx"),
        ),
        migrations.CreateModel(
            name="PendingContactUpdate",
            fields=[
                (
                    "id",
                    models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False),
                ),
                ("phone", models.CharField(blank=True, max_length=32)),
                ("email", models.EmailField(blank=True, max_length=254)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                ("resolved_at", models.DateTimeField(blank=True, null=True)),
                (
                    "outcome",
                    models.CharField(
                        blank=True,
                        choices=[("accepted", "Accepted"), ("dismissed", "Dismissed")],
                        max_length=10,
                    ),
                ),
                ("reason", models.CharField(blank=True, max_length=500)),
                (
                    "case",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="contact_updates",
                        to="intake.case",
                    ),
                ),
                (
                    "partner",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="intake.partner",
                    ),
                ),
                (
                    "patient",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="pending_contact_updates",
                        to="intake.patient",
                    ),
                ),
                (
                    "resolved_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "ordering": ["created_at"],
                "indexes": [
                    models.Index(
                        condition=models.Q(("resolved_at__isnull", True)),
                        fields=["patient", "created_at"],
                        name="contact_update_pending_idx",
                    )
                ],
                "constraints": [
                    models.UniqueConstraint(
                        condition=models.Q(("resolved_at__isnull", True)),
                        fields=("patient", "phone", "email"),
                        name="contact_update_once_pending",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(("email", ""), ("phone", ""), _negated=True),
                        name="contact_update_has_a_detail",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(
                            models.Q(("outcome", ""), ("resolved_at__isnull", True)),
                            models.Q(
                                ("outcome__in", ["accepted", "dismissed"]), ("resolved_at__isnull", False)
                            ),
                            _connector="OR",
                        ),
                        name="contact_update_outcome_when_resolved",
                    ),
                ],
            },
        ),
    ]
