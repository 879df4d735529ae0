"""The month partitions of the partitioned tables (oversight/partitions.py): list them,
create the months ahead (what the daily beat task does), detach a month for archive and
attach it back. docs/operations.md, "Archive old months"."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from core.partitioning import attach, detach, is_partitioned, partitions
from oversight.partitions import PARTITIONED, create_partitions


def _month(value: str) -> dt.date:
    try:
        year, month = value.split("-")
        return dt.date(int(year), int(month), 1)
    except ValueError as exc:
        raise CommandError(f"--month wants YYYY-MM, not {value!r}") from exc


class Command(BaseCommand):
    help = "List, create ahead, detach (for archive) or attach month partitions."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["list", "ensure", "detach", "attach"])
        parser.add_argument("--table", default=PARTITIONED[0], choices=PARTITIONED)
        parser.add_argument("--month", help="YYYY-MM (detach, attach)")
        parser.add_argument("--ahead", type=int, help="months ahead (ensure)")
        parser.add_argument(
            "--concurrently",
            action="store_true",
            help="DETACH PARTITION ... CONCURRENTLY (no long lock; not inside a transaction)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        table = options["table"]
        action = options["action"]
        if not is_partitioned(table):
            self.stdout.write(f"{table} is not partitioned here (PostgreSQL only): nothing to do.")
            return
        if action == "list":
            for name, bound in partitions(table):
                self.stdout.write(f"{name}\t{bound}")
        elif action == "ensure":
            created = create_partitions(months_ahead=options["ahead"])
            self.stdout.write(self.style.SUCCESS(f"Created {len(created)}: {' '.join(created)}"))
        else:
            if not options["month"]:
                raise CommandError(f"{action} needs --month YYYY-MM")
            month = _month(options["month"])
            if action == "detach":
                name = detach(table, month, concurrently=options["concurrently"])
                self.stdout.write(
                    self.style.SUCCESS(
                        f"Detached {name}: dump it (pg_dump -t {name}), then drop it."
                    )
                )
            else:
                name = attach(table, month)
                self.stdout.write(self.style.SUCCESS(f"Attached {name}."))
