from django.core.management.base import BaseCommand, CommandError

from intake.audit import verify_chains
from intake.models import Case


class Command(BaseCommand):
    help = (
        "Walk every case's tamper-evident chain (events, decisions, addenda) and report the "
        "first row altered, inserted or deleted outside the application. Exits 1 if any."
    )

    def add_arguments(self, parser):
        parser.add_argument("--all", action="store_true", help="list every broken case, not just the first")

    def handle(self, *args, all: bool, **options):
        problems = []
        for problem in verify_chains():
            problems.append(problem)
            self.stdout.write(str(problem))
            if not all:
                break
        if problems:
            raise CommandError("The audit chain is broken: see above.")
        self.stdout.write(f"Audit chains intact: {Case.objects.count()} cases checked.")
