"""Write intake/vocabulary/data/icd10cm.tsv.gz from the installed simple-icd-10-cm."""

import gzip

from django.core.management.base import BaseCommand

from intake.vocabulary.icd10cm import CODE_FILE


def rows_from_library() -> list[tuple[str, str, bool]]:
    import simple_icd_10_cm as cm  # heavy (the whole classification); only this command loads it

    # A code is a category, subcategory or extended subcategory. Not "not a chapter or block":
    # a block of one category shares that category's name (B20, C50, O09, ...), and the library
    # lists such a name twice, once as each.
    return [
        (code, " ".join(cm.get_description(code).split()), cm.is_leaf(code))
        for code in dict.fromkeys(cm.get_all_codes(with_dots=True))
        if cm.is_category(code) or cm.is_subcategory(code) or cm.is_extended_subcategory(code)
    ]


class Command(BaseCommand):
    help = "Regenerate the ICD-10-CM code table the service reads, from the installed simple-icd-10-cm."

    def handle(self, *args, **options):
        rows = rows_from_library()
        text = "".join(f"{code}\t{descriptor}\t{int(billable)}\n" for code, descriptor, billable in rows)
        CODE_FILE.write_bytes(gzip.compress(text.encode("utf-8"), 9, mtime=0))
        self.stdout.write(f"{len(rows)} codes written to {CODE_FILE}")
