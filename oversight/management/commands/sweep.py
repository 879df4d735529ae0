from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from oversight.sweep import sweep


class Command(BaseCommand):
    help = "Run the breach sweep once (the same work as the beat-scheduled task)."

    def handle(self, *args: Any, **options: Any) -> None:
        result = sweep()
        self.stdout.write(
            self.style.SUCCESS(f"Sweep done: created {result.created}, errors {result.errors}.")
        )
