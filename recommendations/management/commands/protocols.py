import json
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from recommendations.protocols import export_protocols, import_protocols


class Command(BaseCommand):
    help = (
        'Import or export the clinic\'s treatment protocols as a protocol file ({"protocols": [...]}). '
        "Import is all or nothing, warns on stderr about a protocol that can never fire, and exits "
        "non-zero naming the field on an error."
    )

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("import", help="import a protocol file").add_argument("file")
        sub.add_parser("export", help="write every stored version to a protocol file").add_argument("file")

    def handle(self, *args, action: str, file: str, **options):
        if action == "export":
            data, notes = export_protocols()
            try:
                Path(file).write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
            except OSError as exc:
                raise CommandError(f"Cannot write {file}: {exc.strerror}.") from exc
            for note in notes:
                self.stderr.write(f"warning: {note}")
            self.stdout.write(f"{len(data['protocols'])} protocol versions written to {file}")
            return
        try:
            data = json.loads(Path(file).read_text(encoding="utf-8"))
        except OSError as exc:
            raise CommandError(f"Cannot read {file}: {exc.strerror}.") from exc
        except UnicodeDecodeError as exc:
            raise CommandError(f"{file} is not UTF-8 text.") from exc
        except json.JSONDecodeError as exc:
            raise CommandError(
                f"{file} is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}."
            ) from exc
        try:
            report = import_protocols(data=data)
        except ValidationError as error:
            lines = [
                f"  {name}: {message}"
                for name, messages in error.message_dict.items()
                for message in messages
            ]
            raise CommandError(
                f"{file} was not imported (nothing was changed):\n" + "\n".join(lines)
            ) from error
        for warning in report.warnings:
            self.stderr.write(f"warning: {warning}")
        for name in report.created:
            self.stdout.write(f"imported {name}")
        for name in report.unchanged:
            self.stdout.write(f"unchanged {name} (held already)")
