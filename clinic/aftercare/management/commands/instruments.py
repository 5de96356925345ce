import json
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from clinic.aftercare.instrument_library import all_instruments, import_questionnaire


class Command(BaseCommand):
    help = (
        "List the follow-up instruments (shipped and the clinic's) with their licence and MCID, or "
        "import an instrument the clinic holds a licence for from a FHIR R4 Questionnaire file."
    )

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("list", help="the instruments, their licence status and MCID, with sources")
        add = sub.add_parser("import", help="add an instrument from a FHIR R4 Questionnaire (JSON)")
        add.add_argument("file")
        add.add_argument(
            "--licence", required=True, help="the licence or written permission held, with its date"
        )
        add.add_argument("--licence-source", required=True, help="where it can be read (URL or reference)")
        add.add_argument("--better", required=True, choices=["higher", "lower"], help="which way is better")
        add.add_argument("--mcid", type=float, help="the MCID, a positive change in the better direction")
        add.add_argument("--mcid-source", default="", help="where the MCID comes from, and its population")
        add.add_argument("--score-min", type=float, help="the score when every answer scores lowest")
        add.add_argument("--score-max", type=float, help="the score when every answer scores highest")
        add.add_argument("--key", help="the instrument's key (default: from the Questionnaire's name)")

    def handle(self, *args, action: str, **options):
        if action == "list":
            self._list()
        else:
            self._import(options)

    def _list(self):
        for spec in all_instruments():
            mcid = "none" if spec.mcid is None else f"{spec.mcid:g}"
            if spec.mcid_percent is not None:
                mcid += f" or {spec.mcid_percent:g} % of baseline"
            self.stdout.write(
                f"{spec.key}\t{spec.title}\t{spec.score_min:g}-{spec.score_max:g}, {spec.better} is better\n"
                f"  licence: {spec.licence_status}: {spec.licence} ({spec.licence_source})\n"
                f"  MCID: {mcid} ({spec.mcid_source})\n"
                f"  {spec.population_note}"
            )

    def _import(self, options):
        file = options["file"]
        try:
            data = json.loads(Path(file).read_text(encoding="utf-8"))
        except OSError as exc:
            raise CommandError(f"Cannot read {file}: {exc.strerror}.") from exc
        except UnicodeDecodeError as exc:
            raise CommandError(f"{file} is not UTF-8 text.") from exc
        except json.JSONDecodeError as exc:
            raise CommandError(
                f"{file} is not JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}."
            ) from exc
        try:
            row = import_questionnaire(
                data=data,
                licence=options["licence"],
                licence_source=options["licence_source"],
                better=options["better"],
                mcid=options["mcid"],
                mcid_source=options["mcid_source"],
                score_min=options["score_min"],
                score_max=options["score_max"],
                key=options["key"],
            )
        except ValidationError as error:
            lines = [
                f"  {name}: {message}"
                for name, messages in error.message_dict.items()
                for message in messages
            ]
            raise CommandError(
                f"{file} was not imported (nothing was changed):\n" + "\n".join(lines)
            ) from error
        self.stdout.write(f"imported {row.key} ({row.title}), scored {row.score_min:g}-{row.score_max:g}")
