"""Write intake/vocabulary/data/icd10cm.tsv.gz from the installed simple-icd-10-cm."""

import gzip

from django.core.management.base import BaseCommand

from intake.vocabulary.icd10cm import CODE_FILE


def rows_from_library() -> list[tuple[str, str, bool]]:
    import simple_icd_10_cm as cm  # heavy (the whole classification); only this command loads it

    return [
        (code, " ".join(cm.get_description(code).split()), cm.is_leaf(code))
        for code in cm.get_all_codes(with_dots=True)
        if not cm.is_chapter_or_block(code)
    ]


class Command(BaseCommand):
    help = "Regenerate the ICD-10-CM code table the service reads, from the installed simple-icd-10-cm."

    def handle(self, *args, **options):
        rows = rows_from_library()
        text = "".join(f"{code}\t{descriptor}\t{int(billable)}\n" for code, descriptor, billable in rows)
        CODE_FILE.write_bytes(gzip.compress(text.encode("utf-8"), 9, mtime=0))
        self.stdout.write(f"{len(rows)} codes written to {CODE_FILE}")
