"""Settings for the clinic service, one module per concern; the environment is read in them
and nowhere else (clinic.settings.base says how, and why production refuses to start
without its secrets)."""

from clinic.settings.base import *  # noqa: F403
from clinic.settings.operations import *  # noqa: F403
from clinic.settings.partners import *  # noqa: F403
from clinic.settings.work import *  # noqa: F403
