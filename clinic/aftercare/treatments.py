"""(being written: #25)."""
