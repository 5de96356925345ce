"""Rule set v3: the clinic's protocols (one active version per id), and on each draft the protocol it
used and what it still needs (left out of the chain hash while empty, so earlier drafts verify)."""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("recommendations", "0009_keyed_audit_chain"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="recommendation",
            name="needs",
            field=models.JSONField(blank=True, default=dict),
        ),
        migrations.AddField(
            model_name="recommendation",
            name="protocol_id",
            field=models.CharField(blank=True, max_length=64),
        ),
        migrations.AddField(
            model_name="recommendation",
            name="protocol_version",
            field=models.PositiveIntegerField(blank=True, null=True),
        ),
        migrations.CreateModel(
            name="Protocol",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "protocol_id",
                    models.SlugField(help_text="The protocol's id, shared by its versions", max_length=64),
                ),
                ("version", models.PositiveIntegerField()),
                ("title", models.CharField(max_length=300)),
                (
                    "route",
                    models.CharField(
                        choices=[
                            ("local_injection", "Local injection"),
                            ("intravenous", "Intravenous infusion"),
                        ],
                        max_length=20,
                    ),
                ),
                ("active", models.BooleanField(default=True)),
                (
                    "indications",
                    models.JSONField(default=list, help_text="ICD-10-CM codes, categories or ranges"),
                ),
                (
                    "sites",
                    models.JSONField(blank=True, default=list, help_text="Body sites (local injection only)"),
                ),
                ("max_sites_per_session", models.PositiveIntegerField(blank=True, null=True)),
                (
                    "age_min",
                    models.PositiveIntegerField(
                        blank=True, help_text="Empty: the age of majority", null=True
                    ),
                ),
                (
                    "age_max",
                    models.PositiveIntegerField(blank=True, help_text="Empty: no upper age", null=True),
                ),
                ("age_min_months", models.PositiveIntegerField(blank=True, null=True)),
                (
                    "requires",
                    models.JSONField(blank=True, default=list, help_text="Finding keys the protocol needs"),
                ),
                ("limits", models.JSONField(blank=True, default=dict, help_text='{"kl_grade": {"max": 3}}')),
                (
                    "follow_up",
                    models.JSONField(
                        blank=True, default=dict, help_text='{"instruments": [...], "days": [...]}'
                    ),
                ),
                (
                    "basis",
                    models.CharField(
                        choices=[
                            ("approved_product", "FDA-licensed product, within its labelled indication"),
                            ("ind", "Investigation under an FDA IND"),
                            ("irb_trial", "IRB-approved study needing no IND"),
                            ("same_surgical_procedure", "Same surgical procedure, 21 CFR 1271.15(b)"),
                            (
                                "minimal_manipulation_homologous",
                                "Minimally manipulated, homologous use, 21 CFR 1271.10(a)",
                            ),
                            ("non_us_authorisation", "Authorised by a regulator outside the US"),
                        ],
                        max_length=40,
                    ),
                ),
                ("reference", models.TextField(blank=True)),
                ("basis_rationale", models.TextField(blank=True)),
                ("clinic_role", models.CharField(blank=True, max_length=40)),
                ("irb_report_days", models.PositiveIntegerField(blank=True, null=True)),
                ("assent_waived", models.BooleanField(default=False)),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now, editable=False)),
                (
                    "created_by",
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
                "ordering": ["protocol_id", "-version"],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("protocol_id", "version"), name="protocol_unique_version"
                    ),
                    models.UniqueConstraint(
                        condition=models.Q(("active", True)),
                        fields=("protocol_id",),
                        name="protocol_one_active_version",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(
                            (
                                "basis__in",
                                [
                                    "approved_product",
                                    "ind",
                                    "irb_trial",
                                    "same_surgical_procedure",
                                    "minimal_manipulation_homologous",
                                    "non_us_authorisation",
                                ],
                            )
                        ),
                        name="protocol_basis_valid",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(("route__in", ["local_injection", "intravenous"])),
                        name="protocol_route_valid",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(("version__gte", 1)), name="protocol_version_positive"
                    ),
                ],
            },
        ),
    ]
