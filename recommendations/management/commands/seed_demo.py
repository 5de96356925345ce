import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from intake.models import Partner
from intake.partners import create_partner, issue_api_key
from intake.roles import FRONT_DESK, SPECIALISTS
from recommendations import review
from recommendations.demo import seed_demo_cases, seed_registered_demos
from recommendations.protocols import import_demo_protocols

DEMO_USERS = {"desk": FRONT_DESK, "specialist": SPECIALISTS}
DEMO_PARTNER = "Demo Partner Clinic"
DEMO_SPECIALIST_NAME = "Dr. Maria Okafor"


class Command(BaseCommand):
    help = (
        "Create demo users (front desk, specialist) and a demo partner, print their secrets; import the "
        "demo protocols and make the demo cases (one in every status) that do not exist yet."
    )

    def add_arguments(self, parser):
        parser.add_argument("--force", action="store_true", help="run even with DEBUG off")

    @transaction.atomic
    def handle(self, *args, force: bool, **options):
        if not settings.DEBUG and not force:
            raise CommandError(
                "seed_demo makes accounts with known passwords; with DEBUG off, "
                "pass --force if you really mean it."
            )
        User = get_user_model()
        users = {}
        for username, group_name in DEMO_USERS.items():
            password = secrets.token_urlsafe(9)
            user, _ = User.objects.get_or_create(username=username)
            user.is_staff = group_name == SPECIALISTS
            user.set_password(password)
            user.save()
            user.groups.set([Group.objects.get(name=group_name)])
            users[username] = user
            if group_name == SPECIALISTS:
                # A decision is signed with the specialist's full name and credentials.
                review.set_signature(user=user, full_name=DEMO_SPECIALIST_NAME, credentials="MD")
            self.stdout.write(f"{group_name:<12} user: {username:<11} password: {password}")
        partner = Partner.objects.filter(name=DEMO_PARTNER).first()
        if partner is None:
            partner, key = create_partner(name=DEMO_PARTNER)
        else:
            key = issue_api_key(partner=partner, name="demo key")
        self.stdout.write(f"Partner      {partner.name}: API key {key}")
        self.stdout.write(f"             webhook secret {partner.webhook_secret}")
        # Examples, not clinical protocols: every title and reference says so (README, "Protocols").
        report = import_demo_protocols()
        for name in report.created:
            self.stdout.write(f"Protocol     {name} (EXAMPLE, from the published demo set)")
        # After the protocols: rule set v3 drafts only under one.
        made = seed_demo_cases(desk=users["desk"], specialist=users["specialist"], partner=partner)
        for case, shows in made:
            self.stdout.write(f"Demo case    {case.reference}: {shows}")
        if not made:
            self.stdout.write("Demo cases   already there (made once; delete the database to start over)")
        # The apps above register theirs (the outcomes of treated patients: clinic.aftercare.demo).
        for line in seed_registered_demos(
            desk=users["desk"], specialist=users["specialist"], partner=partner
        ):
            self.stdout.write(line)
