import json
from argparse import ArgumentTypeError
from datetime import date
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from intake.api.errors import flatten_errors
from intake.api.serializers import ReferralSerializer
from recommendations import engine
from recommendations.services import preview_draft


def _version(value: str) -> str:
    version = value if value.startswith("v") else f"v{value}"
    if version not in engine.RULESETS:
        raise ArgumentTypeError(
            f"no rule set {value!r}; known: {', '.join(v.lstrip('v') for v in engine.RULESETS)}"
        )
    return version


class Command(BaseCommand):
    help = "Print, as JSON, the draft a referral body (the partner API's JSON) would get. Saves nothing."

    def add_arguments(self, parser):
        parser.add_argument("file", help="a referral body as JSON, as POSTed to /api/v1/referrals/")
        parser.add_argument(
            "--intake-date",
            type=date.fromisoformat,
            default=None,
            help="the intake date the age rules use (YYYY-MM-DD; default today)",
        )
        parser.add_argument(
            "--ruleset-version",
            type=_version,
            default=engine.CURRENT,
            help=f"the rule set to draft with: {', '.join(v.lstrip('v') for v in engine.RULESETS)} "
            f"(default: the current one, {engine.CURRENT.lstrip('v')}); 1 reproduces v1 exactly",
        )

    def handle(self, *args, file: str, intake_date: date | None, ruleset_version: str, **options):
        path = Path(file)
        try:
            body = json.loads(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise CommandError(f"Cannot read {file}: {exc.strerror}.") from exc
        except UnicodeDecodeError as exc:
            raise CommandError(f"{file} is not UTF-8 text.") from exc
        except json.JSONDecodeError as exc:
            raise CommandError(
                f"{file} is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}."
            ) from exc
        if not isinstance(body, dict):
            raise CommandError(f"{file} must hold one JSON object, the referral body.")
        today = intake_date or timezone.localdate()
        # v1 checked a code's form only; v2 needs a real ICD-10-CM code.
        context = {"today": today, "code_set": ruleset_version != "v1"}
        serializer = ReferralSerializer(data=body, require_external_id=False, context=context)
        if not serializer.is_valid():
            lines = [
                f"  {field}: {message}"
                for field, messages in flatten_errors(serializer.errors).items()
                for message in messages
            ]
            raise CommandError(f"{file} is not a valid referral:\n" + "\n".join(lines))
        draft = preview_draft(referral=serializer.validated_data, intake_date=today, version=ruleset_version)
        self.stdout.write(json.dumps(draft.as_dict(), indent=2, ensure_ascii=False))
