from datetime import datetime

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from intake.audit import export_csv
from intake.models import Patient


def _when(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text)
    except ValueError as exc:
        raise CommandError(f"“{text}” is not a date or time: use YYYY-MM-DD or YYYY-MM-DDTHH:MM.") from exc
    return value if timezone.is_aware(value) else timezone.make_aware(value)


class Command(BaseCommand):
    help = "Export the audit (who read which case, every change) as CSV, for a patient and/or a period."

    def add_arguments(self, parser):
        parser.add_argument("--patient", metavar="MRN", help="only this patient's cases")
        parser.add_argument("--since", metavar="DATE", help="from this date or time (inclusive)")
        parser.add_argument("--until", metavar="DATE", help="up to this date or time (exclusive)")
        parser.add_argument("--output", metavar="FILE", help="write here instead of standard output")

    def handle(self, *args, patient, since, until, output, **options):
        if not (patient or since or until):
            raise CommandError("Say whose audit or which period: --patient MRN and/or --since/--until.")
        if patient and not Patient.objects.filter(mrn=patient).exists():
            raise CommandError(f"No patient has MRN {patient}.")
        start, end = (_when(since) if since else None), (_when(until) if until else None)
        if output:
            try:
                with open(output, "w", newline="", encoding="utf-8") as out:
                    count = export_csv(out, mrn=patient, since=start, until=end)
            except OSError as exc:
                raise CommandError(f"Cannot write {output}: {exc.strerror}.") from exc
            self.stderr.write(f"{count} audit rows written to {output}.")
        else:
            export_csv(self.stdout, mrn=patient, since=start, until=end)
