"""Notification pages: all for signed-in staff (`staff`)."""
