"""The distinct identification code check (21 CFR 1271.290(c))."""
