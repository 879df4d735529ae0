"""Breach pages: `staff` (signed-in staff) and `public` (the acknowledge link of the emails)."""
