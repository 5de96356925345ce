import json
from argparse import ArgumentTypeError
from datetime import date
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from clinic.web.api.errors import flatten_errors
from clinic.web.api.serializers import ReferralSerializer
from recommendations import engine
from recommendations.engine.protocols import Protocol, ProtocolError, load_protocols
from recommendations.selectors import active_protocols, effectiveness
from recommendations.services import live_ruleset, notice_of, preview_draft


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
            default=None,
            help=f"the rule set to draft with: {', '.join(v.lstrip('v') for v in engine.RULESETS)} "
            "(default: the one live drafts use, RULESET_LIVE); 1 and 2 reproduce v1 and v2 exactly",
        )
        parser.add_argument(
            "--protocols",
            metavar="PROTOCOLS.json",
            default=None,
            help="draft with this protocol file's active protocols instead of the database's (rule set 3)",
        )

    def handle(
        self,
        *args,
        file: str,
        intake_date: date | None,
        ruleset_version: str | None,
        protocols: str | None,
        **options,
    ):
        ruleset_version = ruleset_version or live_ruleset()
        body = self._read(file, "the referral body")
        if not isinstance(body, dict):
            raise CommandError(f"{file} must hold one JSON object, the referral body.")
        from_file = self._protocols(protocols) if protocols else None
        newer = ruleset_version not in ("v1", "v2")  # v1 and v2 have no protocols
        used = () if not newer else from_file if from_file is not None else active_protocols()
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
        draft = preview_draft(
            referral=serializer.validated_data, intake_date=today, version=ruleset_version, protocols=used
        )
        printed = draft.as_dict()
        if newer:
            printed["notice"] = notice_of(draft, used)
        self.stdout.write(json.dumps(printed, indent=2, ensure_ascii=False))

    def _protocols(self, file: str) -> tuple[Protocol, ...]:
        """The file's active protocols that are effective here; the others are named on stderr."""
        try:
            found = load_protocols(self._read(file, "a protocol file"))
        except ProtocolError as error:
            raise CommandError(f"{file}: {error.field}: {error.message}") from error
        used = []
        for protocol in found:
            is_effective, why = effectiveness(protocol.as_dict())
            if is_effective:
                used.append(protocol)
            else:
                self.stderr.write(f"warning: {protocol.id} v{protocol.version} is not used: {why}")
        return tuple(used)

    @staticmethod
    def _read(file: str, what: str):
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
        return body
