from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from intake import checkpoints


class Command(BaseCommand):
    help = (
        "Append a signed checkpoint of every case's chain head that moved since the last one to "
        "AUDIT_CHECKPOINT_FILE (celery beat does this every AUDIT_CHECKPOINT_SECONDS)."
    )

    def handle(self, *args, **options):
        try:
            recorded = checkpoints.write()
        except checkpoints.CheckpointError as exc:
            raise CommandError(str(exc)) from None
        except OSError as exc:
            raise CommandError(
                f"Cannot write {settings.AUDIT_CHECKPOINT_FILE}: {exc.strerror}. Check that the "
                "directory exists and this user may append to the file, or set AUDIT_CHECKPOINT_FILE."
            ) from None
        if recorded:
            self.stdout.write(f"Checkpoint written: {recorded} case(s) moved since the last one.")
        else:
            self.stdout.write("Nothing moved since the last checkpoint; nothing written.")
