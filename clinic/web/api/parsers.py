"""JSON parsers for the partner API: a body nested deeper than Python's recursion
limit is the caller's malformed request (400), not our crash."""

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser


class JSONBodyParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError("The JSON is nested too deeply to read.") from None


class FHIRJSONParser(JSONBodyParser):
    media_type = "application/fhir+json"
