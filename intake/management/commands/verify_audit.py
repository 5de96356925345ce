from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from intake import checkpoints
from intake.audit import verify_chains
from intake.models import Case


class Command(BaseCommand):
    help = (
        "Walk every case's keyed chain (events, drafts, decisions, addenda) and its seal, compare "
        "them with the signed checkpoints (AUDIT_CHECKPOINT_FILE), and report the first row altered, "
        "inserted or deleted outside the application, a case cut back or deleted since a checkpoint, "
        "and a checkpoint file that was edited. Exits 1 if any."
    )

    def add_arguments(self, parser):
        parser.add_argument("--all", action="store_true", help="list every broken case, not just the first")

    def handle(self, *args, all: bool, **options):
        try:
            found = checkpoints.read()
        except OSError as exc:
            raise CommandError(
                f"Cannot read {settings.AUDIT_CHECKPOINT_FILE}: {exc.strerror}. Check that this user may "
                "read it, or set AUDIT_CHECKPOINT_FILE."
            ) from None
        problems = list(found.problems) if found else []
        for problem in problems:
            self.stdout.write(str(problem))
        # A damaged checkpoint file does not stop the walk: the chains are checked against the
        # lines before the damage, and their first problem is reported too.
        for problem in verify_chains(checkpointed=found.cases if found else None):
            problems.append(problem)
            self.stdout.write(str(problem))
            if not all:
                break
        if problems:
            raise CommandError("The audit chain is broken: see above.")
        if found is None:
            self.stdout.write(
                f"No checkpoint file at {settings.AUDIT_CHECKPOINT_FILE} yet: a case cut back to an "
                "earlier state or deleted whole cannot be told until checkpoints are written "
                "(celery beat, or manage.py audit_checkpoint)."
            )
        else:
            self.stdout.write(
                f"Checkpoints intact: {found.lines} lines, the newest of {found.last_at or 'none'}."
            )
        self.stdout.write(f"Audit chains intact: {Case.objects.count()} cases checked.")
