"""Case numbers for the short case reference (C-2026-000123): existing cases are numbered
in the order they were received, and on PostgreSQL a sequence gives the next ones."""

from django.db import migrations, models

SEQUENCE = "intake_case_number_seq"


def number_existing_cases(apps, schema_editor):
    Case = apps.get_model("intake", "Case")
    for number, pk in enumerate(Case.objects.order_by("created_at", "id").values_list("pk", flat=True), start=1):
        Case.objects.filter(pk=pk).update(number=number)
    if schema_editor.connection.vendor == "postgresql":
        with schema_editor.connection.cursor() as cursor:
            cursor.execute(f"CREATE SEQUENCE IF NOT EXISTS {SEQUENCE} START WITH 1")
            cursor.execute(f"SELECT setval('{SEQUENCE}', GREATEST((SELECT COALESCE(MAX(number), 0) FROM intake_case), 1), (SELECT COUNT(*) > 0 FROM intake_case))")


def drop_sequence(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        with schema_editor.connection.cursor() as cursor:
            cursor.execute(f"DROP SEQUENCE IF EXISTS {SEQUENCE}")


class Migration(migrations.Migration):
    dependencies = [("intake", "0007_idempotency_body_as_text")]

    operations = [
        migrations.AddField(
            model_name="case",
            name="number",
            field=models.PositiveBigIntegerField(editable=False, null=True, unique=True),
        ),
        migrations.RunPython(number_existing_cases, drop_sequence),
    ]
