"""The HTML run report (to come)."""
