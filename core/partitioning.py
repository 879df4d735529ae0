"""Monthly range partitioning of big tables (PostgreSQL declarative partitioning).

Design (issue 17, "National scale"; docs/scaling.md, "Partitioning by month"):

- **PostgreSQL only.** SQLite (`make run`'s embedded default) keeps plain tables; every
  function here is a no-op (or says "not partitioned") elsewhere, and the migrations that
  convert a table check `connection.vendor`.
- **Which tables.** `oversight_breach`, by `occurred_at` (the review desk's order and date
  windows; oversight/partitions.py); `delivery_servicedelivery`, by `submitted_at`
  (delivery/partitions.py): its `(agency, reference)` and `tracking_code` are kept by claim
  tables, and its writers no longer use `ON CONFLICT (agency_id, reference)` (the bulk
  importer locks the reference claims, updates the existing rows and inserts the new ones,
  delivery/bulk/apply.py; the set-based insert skips taken references in SKIP_DUPLICATES
  mode); and `notifications_notification`, by `created_at` (notifications/partitions.py):
  its writers that skip a taken `idempotency_key` all go through
  `notifications.outbox.insert` (SKIP_DUPLICATES for that insert only). The registry of
  partitioned tables is oversight/partitions.py's `PARTITIONED`; see docs/scaling.md.
- **Keys.** PostgreSQL demands that every unique index of a partitioned table include the
  partition key: the database's primary key becomes `(id, <key>)` while Django keeps `id` as
  its primary key (ids still come from the one identity sequence, so they stay unique).
  Foreign keys *into* a partitioned table would need that composite key, so they are
  `db_constraint=False` in the models (Django still applies `on_delete` in Python; integrity
  tested in tests/oversight/test_partitions.py).
- **Exactly once across partitions.** A unique constraint that cannot include the key is
  kept by a small unpartitioned *claim* table holding that key (its primary key), written by
  triggers on the partitioned table in the same transaction: a plain INSERT claims its rows
  set-based once per statement (a duplicate fails with a unique violation under the old
  constraint's name, as before); a writer that wants `ON CONFLICT DO NOTHING` semantics (the
  sweep) sets the transaction-local setting `SKIP_DUPLICATES` and a row trigger claims each
  row before it is written, skipping it if the fact is taken (a table with several claims
  skips on the first only, `Claim.skippable`: the others refuse as a plain write, so that a
  skipped row never leaves an earlier claim taken). Set it around an INSERT only: an UPDATE
  that moves a row to another month fires the destination's BEFORE INSERT row trigger,
  which in that mode finds the row's own claim taken and may drop the row (not exercised:
  every writer turns it off after its INSERT). Concurrent writers of the same key wait on
  the claim's index entry exactly as they would on the old unique index. A
  DELETE frees its claims; an UPDATE moving a row to another month keeps it; the key columns
  cannot be updated (nothing does). Rows moved between partitions directly (the DEFAULT
  partition's rows into a new month) keep their claims: statement triggers fire only for
  the table a statement names. Always write through the parent table.
- **Conversion** (`convert`): the table is renamed, a partitioned copy created with the same
  columns, defaults, checks and identity, a DEFAULT partition and one partition per month
  from the oldest row to `MONTHS_AHEAD` months ahead, the rows copied, the identity's
  sequence set past the highest id (`setval`), the old table dropped and its indexes and
  outgoing foreign keys recreated on the parent (partitioned indexes: each partition gets its
  own). `revert` undoes it (the migration is reversible).
- **Ahead.** `ensure_partitions` (the beat task `oversight.create_partitions`, daily, on the
  `sweep` queue) creates the missing months up to `MONTHS_AHEAD` ahead; idempotent, and
  serialised by a transaction-level advisory lock, so two at once create each month once.
  Rows that landed in the DEFAULT partition (out of range) are moved into a month's
  partition when it is created (PostgreSQL would refuse the new partition otherwise).
- **Archive.** `detach` / `attach` (management command `partitions`): a month leaves the live
  table (DETACH PARTITION, CONCURRENTLY if asked), is dumped and dropped; the claims stay,
  so an archived fact is never recreated. docs/operations.md, "Archive old months".
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from django.db import connection, transaction
from django.db.backends.utils import CursorWrapper

MONTHS_AHEAD = 3
# The transaction-local setting a writer sets to have duplicates skipped (ON CONFLICT DO
# NOTHING semantics) rather than refused.
SKIP_DUPLICATES = "maklumat.skip_duplicates"

_NAME = re.compile(r"^[a-z_][a-z0-9_]*$")


@contextlib.contextmanager
def skipping_duplicates() -> Iterator[None]:
    """Inserts into a partitioned table inside skip a row whose claimed key is taken instead
    of failing (ON CONFLICT DO NOTHING semantics, across months): the one home of turning
    SKIP_DUPLICATES on.

    PostgreSQL: one statement turns the transaction-local setting on (a transaction is
    opened here if there is none) and one puts back what it was, so a later plain insert in
    the same transaction still fails loudly; a failed insert rolls the setting back with its
    transaction. Elsewhere (SQLite): nothing, the unique constraints do the skipping."""
    if not is_postgresql():
        yield
        return
    with transaction.atomic(savepoint=False):
        with connection.cursor() as cursor:
            # The target list is evaluated left to right: the value before, then the change.
            cursor.execute(
                "SELECT current_setting(%s, true), set_config(%s, 'on', true)",
                [SKIP_DUPLICATES, SKIP_DUPLICATES],
            )
            row = cursor.fetchone()
            before = (row[0] if row else None) or "off"
        yield
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config(%s, %s, true)", [SKIP_DUPLICATES, before])


@dataclass(frozen=True)
class Claim:
    """A unique key kept across partitions by an unpartitioned claim table."""

    table: str  # the claim table (a Django model's table, so that test flushes empty it)
    columns: tuple[str, ...]
    constraint: str  # the name the unique violation carries (the old constraint's)
    lookup_index: str  # a plain partitioned index over the same columns, for lookups
    # In SKIP_DUPLICATES mode, does a taken key skip the row (True) or fail the statement
    # as a plain write would (False)? A table with several claims skips on its first one
    # only (the triggers fire in the order of their names, i.e. of the claim tables): a row
    # skipped by a later claim would leave the earlier claims taken without a row.
    skippable: bool = True


@dataclass(frozen=True)
class Spec:
    table: str
    key: str
    claims: tuple[Claim, ...] = field(default_factory=tuple)


def _check(name: str) -> str:
    if not _NAME.match(name):
        raise ValueError(f"not a plain SQL name: {name!r}")
    return name


def is_postgresql() -> bool:
    return connection.vendor == "postgresql"


def is_partitioned(table: str) -> bool:
    if not is_postgresql():
        return False
    with connection.cursor() as cursor:
        cursor.execute("SELECT relkind FROM pg_class WHERE oid = to_regclass(%s)", [_check(table)])
        row = cursor.fetchone()
    return bool(row and row[0] == "p")


def _today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


def month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def add_months(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def partition_name(table: str, month: dt.date) -> str:
    return f"{table}_p{month:%Y%m}"


def default_name(table: str) -> str:
    return f"{table}_pdefault"


def _bounds(month: dt.date) -> tuple[str, str]:
    # Months in UTC (the database's timestamptz are compared as instants).
    return (f"{month:%Y-%m-%d} 00:00:00+00", f"{add_months(month, 1):%Y-%m-%d} 00:00:00+00")


def partitions(table: str) -> list[tuple[str, str]]:
    """(partition, bound expression) of a partitioned table, by name."""
    if not is_partitioned(table):
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname, pg_get_expr(c.relpartbound, c.oid) FROM pg_inherits i "
            "JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = to_regclass(%s) "
            "ORDER BY c.relname",
            [_check(table)],
        )
        return [(name, bound) for name, bound in cursor.fetchall()]


# --- Claims: exactly once across partitions ---------------------------------------------


def _claim_sql(spec: Spec, claim: Claim) -> list[str]:
    """The trigger functions and triggers keeping `claim` for `spec.table`.

    Plain writes claim set-based, once per statement (an AFTER statement trigger over the
    inserted rows: a duplicate fails the statement with a unique violation, as the old
    constraint did); a writer in SKIP_DUPLICATES mode claims row by row before each row
    (a BEFORE row trigger: a row whose fact is taken is skipped). Deleted rows free their
    claims once per statement; a row moving to another month (an UPDATE) keeps its claim,
    and the key itself cannot change."""
    table, cols = spec.table, claim.columns
    fn = f"{_check(claim.table)}_keep"
    col_list = ", ".join(cols)
    new_vals = ", ".join(f"NEW.{c}" for c in cols)
    match = " AND ".join(f"c.{c} = o.{c}" for c in cols)
    changed = " OR ".join(f"NEW.{c} IS DISTINCT FROM OLD.{c}" for c in cols)
    skip = f"coalesce(current_setting('{SKIP_DUPLICATES}', true), '') = 'on'"
    violation = (
        f"RAISE unique_violation USING MESSAGE = 'duplicate key value violates unique "
        f"constraint \"{claim.constraint}\"', CONSTRAINT = '{claim.constraint}', "
        f"TABLE = '{table}';"
    )
    taken = (
        "RETURN NULL;  -- the fact is taken: skip the row (ON CONFLICT DO NOTHING)"
        if claim.skippable
        else violation
    )
    return [
        f"""CREATE OR REPLACE FUNCTION {fn}_row() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP = 'UPDATE' THEN
                IF {changed} THEN
                    RAISE EXCEPTION 'the key of a row of {table} kept by {claim.table} '
                        'cannot change';
                END IF;
                RETURN NEW;
            END IF;
            IF NOT {skip} THEN
                RETURN NEW;  -- claimed by the statement trigger below
            END IF;
            INSERT INTO {claim.table} ({col_list}) VALUES ({new_vals}) ON CONFLICT DO NOTHING;
            IF FOUND THEN
                RETURN NEW;
            END IF;
            {taken}
        END $$""",
        f"""CREATE OR REPLACE FUNCTION {fn}_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF {skip} THEN
                RETURN NULL;  -- claimed row by row
            END IF;
            INSERT INTO {claim.table} ({col_list}) SELECT {col_list} FROM new_rows;
            RETURN NULL;
        EXCEPTION WHEN unique_violation THEN
            {violation}
        END $$""",
        f"""CREATE OR REPLACE FUNCTION {fn}_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            DELETE FROM {claim.table} c USING old_rows o WHERE {match};
            RETURN NULL;
        END $$""",
        f"DROP TRIGGER IF EXISTS {fn}_row ON {table}",
        f"DROP TRIGGER IF EXISTS {fn}_inserted ON {table}",
        f"DROP TRIGGER IF EXISTS {fn}_deleted ON {table}",
        # BEFORE, so that a skipped duplicate is never inserted (and never RETURNed).
        f"CREATE TRIGGER {fn}_row BEFORE INSERT OR UPDATE OF {col_list} ON {table} "
        f"FOR EACH ROW EXECUTE FUNCTION {fn}_row()",
        f"CREATE TRIGGER {fn}_inserted AFTER INSERT ON {table} REFERENCING NEW TABLE AS "
        f"new_rows FOR EACH STATEMENT EXECUTE FUNCTION {fn}_inserted()",
        f"CREATE TRIGGER {fn}_deleted AFTER DELETE ON {table} REFERENCING OLD TABLE AS "
        f"old_rows FOR EACH STATEMENT EXECUTE FUNCTION {fn}_deleted()",
    ]


# --- Conversion -------------------------------------------------------------------------


def _indexes(cursor: CursorWrapper, table: str) -> list[tuple[str, str]]:
    """(name, definition) of the table's indexes that are not constraints."""
    cursor.execute(
        "SELECT i.relname, pg_get_indexdef(x.indexrelid) FROM pg_index x "
        "JOIN pg_class i ON i.oid = x.indexrelid "
        "WHERE x.indrelid = to_regclass(%s) AND NOT EXISTS "
        "(SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid) ORDER BY 1",
        [table],
    )
    return list(cursor.fetchall())


def _constraints(cursor: CursorWrapper, table: str, types: str) -> list[tuple[str, str, str]]:
    """(name, type, definition) of the table's constraints of the given types."""
    cursor.execute(
        "SELECT conname, contype, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE conrelid = to_regclass(%s) AND contype = ANY(%s) ORDER BY 1",
        [table, list(types)],
    )
    return list(cursor.fetchall())


def _identity_sequence(cursor: CursorWrapper, table: str) -> str | None:
    cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [table])
    row = cursor.fetchone()
    return row[0] if row else None


def _rebuild(cursor: CursorWrapper, spec: Spec, *, partition: bool) -> None:
    """Rebuild `spec.table` as a partitioned table (or back as a plain one)."""
    table, key = _check(spec.table), _check(spec.key)
    old = f"{table}__old"
    indexes = _indexes(cursor, table)
    foreign = _constraints(cursor, table, "f")
    uniques = _constraints(cursor, table, "u")
    pk = _constraints(cursor, table, "p")
    lookup_names = {c.lookup_index for c in spec.claims}
    claim_names = {c.constraint for c in spec.claims}

    cursor.execute(f"ALTER TABLE {table} RENAME TO {old}")
    for name, _type, _definition in pk:
        cursor.execute(f"ALTER TABLE {old} RENAME CONSTRAINT {name} TO {name}__old")
    sequence = _identity_sequence(cursor, old)
    suffix = f" PARTITION BY RANGE ({key})" if partition else ""
    cursor.execute(
        f"CREATE TABLE {table} (LIKE {old} INCLUDING DEFAULTS INCLUDING CONSTRAINTS "
        f"INCLUDING IDENTITY INCLUDING STORAGE INCLUDING COMMENTS){suffix}"
    )
    if partition:
        cursor.execute(f"CREATE TABLE {default_name(table)} PARTITION OF {table} DEFAULT")
        cursor.execute(f"SELECT min({key}) FROM {old}")
        oldest = cursor.fetchone()[0]
        first = month_start(oldest.date() if oldest else _today())
        _create_months(cursor, table, first, add_months(month_start(_today()), 3))
    columns = ", ".join(_columns(cursor, old))
    cursor.execute(f"INSERT INTO {table} ({columns}) SELECT {columns} FROM {old}")
    new_sequence = _identity_sequence(cursor, table)
    cursor.execute(f"DROP TABLE {old} CASCADE")
    if new_sequence and sequence:
        cursor.execute(f"ALTER SEQUENCE {new_sequence} RENAME TO {sequence.split('.')[-1]}")
        new_sequence = sequence
    if new_sequence:
        # Continue after the highest id (the copy kept the ids; the new sequence starts at 1).
        cursor.execute(
            f"SELECT setval(%s, coalesce((SELECT max(id) FROM {table}), 0) + 1, false)",
            [new_sequence],
        )
    for name, _type, _definition in pk:
        columns_pk = f"id, {key}" if partition else "id"
        cursor.execute(f"ALTER TABLE {table} ADD CONSTRAINT {name} PRIMARY KEY ({columns_pk})")
    for name, definition in indexes:
        if partition and name in lookup_names:
            continue
        cursor.execute(definition)
    for name, _type, definition in uniques:
        if partition and name in claim_names:
            continue  # kept by its claim table
        cursor.execute(f"ALTER TABLE {table} ADD CONSTRAINT {name} {definition}")
    for name, _type, definition in foreign:
        cursor.execute(f"ALTER TABLE {table} ADD CONSTRAINT {name} {definition}")
    for claim in spec.claims:
        cols = ", ".join(claim.columns)
        if partition:
            cursor.execute(f"CREATE INDEX {claim.lookup_index} ON {table} ({cols})")
            cursor.execute(f"TRUNCATE {claim.table}")
            cursor.execute(f"INSERT INTO {claim.table} ({cols}) SELECT {cols} FROM {table}")
            for statement in _claim_sql(spec, claim):
                cursor.execute(statement)
        else:
            for suffix in ("row", "inserted", "deleted"):
                cursor.execute(f"DROP FUNCTION IF EXISTS {claim.table}_keep_{suffix}() CASCADE")
            cursor.execute(f"DROP INDEX IF EXISTS {claim.lookup_index}")
            cursor.execute(f"ALTER TABLE {table} ADD CONSTRAINT {claim.constraint} UNIQUE ({cols})")
            cursor.execute(f"TRUNCATE {claim.table}")


def _columns(cursor: CursorWrapper, table: str) -> list[str]:
    cursor.execute(
        "SELECT attname FROM pg_attribute WHERE attrelid = to_regclass(%s) AND attnum > 0 "
        "AND NOT attisdropped ORDER BY attnum",
        [table],
    )
    return [_check(row[0]) for row in cursor.fetchall()]


def convert(spec: Spec) -> None:
    """Turn a plain table into a monthly partitioned one (PostgreSQL; else nothing)."""
    if not is_postgresql() or is_partitioned(spec.table):
        return
    with transaction.atomic(), connection.cursor() as cursor:
        _rebuild(cursor, spec, partition=True)


def revert(spec: Spec) -> None:
    """Turn the partitioned table back into a plain one (the migration's reverse)."""
    if not is_partitioned(spec.table):
        return
    with transaction.atomic(), connection.cursor() as cursor:
        _rebuild(cursor, spec, partition=False)


# --- Partitions ahead, the DEFAULT partition, archive -----------------------------------


def _create_months(cursor: CursorWrapper, table: str, first: dt.date, last: dt.date) -> list[str]:
    """Create the missing month partitions from `first` to `last` (both month starts),
    moving any rows of those months out of the DEFAULT partition first."""
    cursor.execute(
        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
        "WHERE i.inhparent = to_regclass(%s)",
        [table],
    )
    existing = {row[0] for row in cursor.fetchall()}
    created = []
    month = first
    while month <= last:
        name = partition_name(table, month)
        if name not in existing:
            low, high = _bounds(month)
            default = default_name(table)
            cursor.execute(
                f"SELECT EXISTS (SELECT 1 FROM {default} WHERE {_key(cursor, table)} >= %s "
                f"AND {_key(cursor, table)} < %s)",
                [low, high],
            )
            if cursor.fetchone()[0]:
                _create_moving(cursor, table, name, low, high)
            else:
                cursor.execute(
                    f"CREATE TABLE {name} PARTITION OF {table} "
                    f"FOR VALUES FROM ('{low}') TO ('{high}')"
                )
            created.append(name)
        month = add_months(month, 1)
    return created


def _create_moving(cursor: CursorWrapper, table: str, name: str, low: str, high: str) -> None:
    """A month whose rows are in the DEFAULT partition: a plain table gets them, then is
    attached (PostgreSQL refuses a new partition whose rows sit in the default)."""
    key = _key(cursor, table)
    default = default_name(table)
    columns = ", ".join(_columns(cursor, table))
    cursor.execute(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE")
    cursor.execute(f"CREATE TABLE {name} (LIKE {table} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)")
    cursor.execute(
        f"WITH moved AS (DELETE FROM {default} WHERE {key} >= %s AND {key} < %s "
        f"RETURNING {columns}) INSERT INTO {name} ({columns}) SELECT {columns} FROM moved",
        [low, high],
    )
    cursor.execute(
        f"ALTER TABLE {table} ATTACH PARTITION {name} FOR VALUES FROM ('{low}') TO ('{high}')"
    )


def _key(cursor: CursorWrapper, table: str) -> str:
    cursor.execute(
        "SELECT a.attname FROM pg_partitioned_table p JOIN pg_attribute a "
        "ON a.attrelid = p.partrelid AND a.attnum = p.partattrs[0] "
        "WHERE p.partrelid = to_regclass(%s)",
        [table],
    )
    return _check(cursor.fetchone()[0])


def ensure_partitions(
    tables: list[str], *, today: dt.date | None = None, months_ahead: int = MONTHS_AHEAD
) -> list[str]:
    """Create the missing month partitions from this month to `months_ahead` ahead.

    Idempotent; two at once are serialised by an advisory lock (each month created once).
    On SQLite, or for a table that is not partitioned, nothing to do."""
    today = today or _today()
    created: list[str] = []
    for table in tables:
        if not is_partitioned(table):
            continue
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [f"partitions:{table}"])
            first = month_start(today)
            created += _create_months(cursor, table, first, add_months(first, months_ahead))
    return created


def detach(table: str, month: dt.date, *, concurrently: bool = False) -> str:
    """Detach a month from the live table: its rows leave the table, the partition stays as
    a plain table (to dump and drop). CONCURRENTLY cannot run inside a transaction."""
    name = partition_name(_check(table), month_start(month))
    how = " CONCURRENTLY" if concurrently else ""
    with connection.cursor() as cursor:
        cursor.execute(f"ALTER TABLE {table} DETACH PARTITION {name}{how}")
    return name


def attach(table: str, month: dt.date) -> str:
    """Attach a detached (or restored) month back."""
    month = month_start(month)
    name = partition_name(_check(table), month)
    low, high = _bounds(month)
    with connection.cursor() as cursor:
        cursor.execute(
            f"ALTER TABLE {table} ATTACH PARTITION {name} FOR VALUES FROM ('{low}') TO ('{high}')"
        )
    return name
