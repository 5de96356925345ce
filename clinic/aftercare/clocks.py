"""Reporting clocks: pure rules (DESIGN.md, "Who reports what, by when")."""
