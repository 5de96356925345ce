#!/usr/bin/env python
import os
import secrets
import sys

# Commands that only compare models with migration files: they sign nothing, so they
# run without the production secret (CI and a fresh checkout check migrations this way).
# Everything else, the server included, still refuses to start without SECRET_KEY.
KEYLESS_COMMANDS = {"makemigrations", "showmigrations", "sqlmigrate"}


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clinic.settings")
    if sys.argv[1:2] and sys.argv[1] in KEYLESS_COMMANDS:
        os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(50))  # thrown away on exit
        os.environ.setdefault("AUDIT_KEYS", f"throwaway:{secrets.token_urlsafe(50)}")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
