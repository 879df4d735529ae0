"""The outbox partitioned by month on PostgreSQL (core/partitioning.py,
notifications/partitions.py): the shape, "each message once" across months for the writers
that skip duplicates (notifications.outbox.insert, the one home) while a plain duplicate
still fails under the old name, the months ahead, a month detached for archive and attached
back, Django's cascades without database constraints, and the drainer's statements by id
reading one month, and every other statement on outbox rows by id as well (stale claims put
back, a staff resend, the digest)."""

from __future__ import annotations

import datetime as dt
import pathlib
import re
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from core.partitioning import (
    SKIP_DUPLICATES,
    add_months,
    default_name,
    ensure_partitions,
    is_partitioned,
    month_start,
    partition_name,
    partitions,
)
from notifications.models import (
    AttemptResult,
    Notification,
    NotificationAttempt,
    NotificationClaim,
    NotificationStatus,
)
from notifications.outbox import digest_collect, expand_fanouts, notification_resend, requeue_stale
from notifications.outbox.drain import RECORD_SENT_SQL
from notifications.outbox.insert import insert_notifications
from notifications.partitions import NOTIFICATIONS
from notifications.selectors import inbox_for_user
from oversight.escalation import escalate
from oversight.followers import followers_notify
from oversight.models import BreachEscalation, BreachEvent, CitizenFollower
from oversight.partitions import PARTITIONED, create_partitions
from oversight.sweep import OUTBOX_FROM_NEW_SQL, _write_notifications
from tests.delivery.conftest import wib
from tests.factories import UserFactory
from tests.notifications.conftest import late_breach

TABLE = NOTIFICATIONS.table
JAN = dt.date(2026, 1, 1)
IN_JANUARY = dt.datetime(2026, 1, 15, 12, 0, tzinfo=dt.UTC)
ROOT = pathlib.Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def no_january(db):
    # January 2026 starts without its partition (its rows go to the DEFAULT one), whatever
    # earlier tests did; the test's transaction puts it back.
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {partition_name(TABLE, JAN)}")


def _where(pk: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT tableoid::regclass::text FROM {TABLE} WHERE id = %s", [pk])
        row = cursor.fetchone()
    return row[0] if row else ""


def _to_january() -> None:
    """Every outbox row moves to January 2026 (another partition: the DEFAULT one)."""
    Notification.objects.update(created_at=IN_JANUARY)


def _row(key: str) -> Notification:
    return Notification(
        event="test_event", channel="email", recipient="a@example.org", idempotency_key=key
    )


def _setting() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT coalesce(current_setting(%s, true), '')", [SKIP_DUPLICATES])
        return str(cursor.fetchone()[0])


def test_the_outbox_is_a_partitioned_table_keyed_by_id_and_month(db):
    assert is_partitioned(TABLE)
    assert TABLE in PARTITIONED
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT array_agg(a.attname ORDER BY a.attname) FROM pg_constraint c "
            "JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = ANY(c.conkey) "
            "WHERE c.conrelid = %s::regclass AND c.contype = 'p'",
            [TABLE],
        )
        assert cursor.fetchone()[0] == ["created_at", "id"]
    names = [name for name, _bound in partitions(TABLE)]
    this_month = dt.datetime.now(dt.UTC).date().replace(day=1)
    assert default_name(TABLE) in names
    for ahead in range(4):  # this month and MONTHS_AHEAD ahead, made by the migration
        assert partition_name(TABLE, add_months(this_month, ahead)) in names
    # The beat task keeps the outbox's months ahead too.
    far = dt.date(2032, 5, 1)
    assert partition_name(TABLE, far) in create_partitions(today=far, months_ahead=0)


def test_a_plain_duplicate_fails_under_the_old_name_whatever_its_month(db):
    Notification.objects.create(event="e", idempotency_key="k1")
    assert NotificationClaim.objects.filter(idempotency_key="k1").exists()
    with pytest.raises(IntegrityError, match="notification_once"), transaction.atomic():
        Notification.objects.create(event="e", idempotency_key="k1")  # the same month
    _to_january()
    with pytest.raises(IntegrityError, match="notification_once"), transaction.atomic():
        Notification.objects.create(event="e", idempotency_key="k1")  # another one
    assert Notification.objects.count() == 1


def test_insert_notifications_skips_a_key_taken_in_another_month_and_only_there(db):
    taken = Notification.objects.create(event="e", idempotency_key="taken")
    _to_january()
    assert _where(taken.pk) == default_name(TABLE)
    with transaction.atomic():
        insert_notifications([_row("taken"), _row("new"), _row("new")])
        assert _setting() in ("", "off")  # put back: the skip was for that insert only
        # ... so a later plain insert in the same transaction still fails loudly.
        with pytest.raises(IntegrityError, match="notification_once"), transaction.atomic():
            Notification.objects.create(event="e", idempotency_key="new")
    assert sorted(Notification.objects.values_list("idempotency_key", flat=True)) == [
        "new",
        "taken",
    ]
    assert NotificationClaim.objects.count() == 2
    # Outside any transaction (autocommit) as well.
    insert_notifications([_row("taken"), _row("other")])
    assert Notification.objects.count() == 3


def test_a_setting_already_on_stays_on_after_the_insert(db):
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config(%s, 'on', true)", [SKIP_DUPLICATES])
        insert_notifications([_row("a")])
        assert _setting() == "on"


def test_the_sweeps_outbox_rows_are_written_once_across_months(service):
    breach = late_breach(service)
    assert Notification.objects.count() == 1  # the fan-out row, written by the sweep's CTE
    _to_january()
    # The SQLite path's writer, and the PostgreSQL statement itself, over the same breach.
    _write_notifications([(breach.pk, breach.unit_id)])
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT set_config(%s, 'on', true)", [SKIP_DUPLICATES])
        cursor.execute(
            f"WITH new AS (SELECT id, unit_id FROM oversight_breach WHERE id = %s), "
            f"outbox AS ({OUTBOX_FROM_NEW_SQL}) SELECT 1",
            [breach.pk],
        )
    assert Notification.objects.count() == 1
    assert NotificationClaim.objects.count() == 1


def test_a_fan_out_expanded_again_in_another_month_writes_nothing_new(service):
    late_breach(service)
    expand_fanouts(now=timezone.now())
    children = Notification.objects.exclude(recipient="").count()
    assert children >= 2  # the unit's two contact addresses (and in-app rows, if any)
    _to_january()
    Notification.objects.filter(recipient="").update(status=NotificationStatus.PENDING)
    assert expand_fanouts(now=timezone.now()) == 1
    assert Notification.objects.exclude(recipient="").count() == children
    assert NotificationClaim.objects.count() == children + 1


def test_an_escalation_written_again_in_another_month_writes_nothing_new(service):
    breach = late_breach(service)
    Notification.objects.all().delete()
    BreachEscalation.objects.all().delete()
    breach.detected_at = wib(2026, 4, 10, 10)
    breach.save(update_fields=["detected_at"])
    escalate(now=wib(2026, 5, 7, 8, 0))  # every level at once
    levels = Notification.objects.filter(event="breach_escalated").count()
    assert levels == 3
    _to_january()
    BreachEscalation.objects.filter(breach=breach).update(level=0)
    escalate(now=wib(2026, 5, 7, 9, 0))
    assert Notification.objects.filter(event="breach_escalated").count() == levels


def test_a_citizen_update_written_again_in_another_month_writes_nothing_new(service):
    breach = late_breach(service)
    assert breach.delivery is not None
    now = timezone.now()
    CitizenFollower.objects.create(
        delivery=breach.delivery, email="warga@example.org", confirmed_at=now
    )
    event = BreachEvent.objects.create(
        breach=breach, kind="explained", text="Sudah diperbaiki.", created_at=now
    )
    assert followers_notify(breach, event) == 1
    _to_january()
    with transaction.atomic():
        followers_notify(breach, event)  # the same update again: skipped, the key is taken
        Notification.objects.create(event="e", idempotency_key="after")  # still writable
    assert Notification.objects.filter(recipient="warga@example.org").count() == 1


def test_every_writer_that_skips_duplicates_goes_through_the_one_home():
    """A bulk insert with ignore_conflicts, or ON CONFLICT on the key, would fail (or
    raise) on the partitioned outbox: only notifications/outbox/insert.py may do it."""
    home = ROOT / "notifications" / "outbox" / "insert.py"
    bulk = re.compile(r"Notification\.objects\.bulk_create\(")
    keyed = re.compile(r"ON CONFLICT \(idempotency_key\)")
    offenders = []
    apps = [
        top
        for top in ROOT.iterdir()
        if top.is_dir() and (top / "__init__.py").exists() and top.name not in {"tests", "bench"}
    ]
    assert {"notifications", "oversight", "feedback", "cases"} <= {app.name for app in apps}
    for app in apps:
        for path in app.rglob("*.py"):
            if "migrations" in path.parts or path == home:
                continue
            text = path.read_text()
            if bulk.search(text) or keyed.search(text):
                offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []


def test_deleting_cascades_in_django_and_frees_the_keys(service):
    breach = late_breach(service)
    expand_fanouts(now=timezone.now())
    child = Notification.objects.exclude(recipient="").first()
    assert child is not None and child.parent_id is not None
    NotificationAttempt.objects.create(
        notification=child,
        started_at=timezone.now(),
        finished_at=timezone.now(),
        result=AttemptResult.SENT,
    )
    digest = Notification.objects.create(event="digest", idempotency_key="digest-1")
    Notification.objects.filter(pk=child.pk).update(digest=digest)
    digest.delete()  # SET_NULL on its items, by Django
    assert Notification.objects.get(pk=child.pk).digest_id is None
    breach.delete()  # its notifications (GenericRelation), their children and attempts
    assert not Notification.objects.exists()
    assert not NotificationAttempt.objects.exists()
    assert not NotificationClaim.objects.exists()
    # A key freed is written again.
    insert_notifications([_row("digest-1")])
    assert Notification.objects.get().idempotency_key == "digest-1"


def test_a_month_detached_for_archive_keeps_its_keys_and_comes_back(db):
    row = Notification.objects.create(event="e", idempotency_key="archived")
    _to_january()
    assert ensure_partitions([TABLE], today=JAN, months_ahead=0) == [partition_name(TABLE, JAN)]
    assert _where(row.pk) == partition_name(TABLE, JAN)
    out = StringIO()
    call_command("partitions", "detach", "--table", TABLE, "--month", "2026-01", stdout=out)
    assert f"pg_dump -t {partition_name(TABLE, JAN)}" in out.getvalue()
    assert not Notification.objects.exists()
    # The claim stays: an archived message is not written (nor sent) again.
    insert_notifications([_row("archived")])
    assert not Notification.objects.exists()
    call_command("partitions", "attach", "--table", TABLE, "--month", "2026-01", stdout=out)
    assert Notification.objects.get().pk == row.pk


def _scanned(sql: str, params: list[Any] | None) -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(r[0] for r in cursor.fetchall())
    return set(re.findall(rf"\bon ({TABLE}_p(?:\d{{6}}|default))\b", plan))


def test_the_drainers_record_by_id_reads_one_month(db):
    ensure_partitions([TABLE], today=dt.date(2030, 1, 1), months_ahead=11)
    created = dt.datetime(2030, 3, 9, tzinfo=dt.UTC)
    now = timezone.now()
    params = [1, now, now, AttemptResult.SENT, NotificationStatus.SENT, now]
    assert _scanned(RECORD_SENT_SQL, [*params, 1, created, NotificationStatus.SENDING]) == {
        partition_name(TABLE, dt.date(2030, 3, 1))
    }
    # By id alone, every month is probed.
    sql, by_id = Notification.objects.filter(pk=1).query.sql_with_params()
    assert len(_scanned(sql, list(by_id))) >= 12


# --- Every statement by id carries the row's month ---------------------------------------

IN_MARCH_2030 = dt.datetime(2030, 3, 9, 8, 0, tzinfo=dt.UTC)
# A statement naming outbox rows by id: `... WHERE ... "notifications_notification"."id" = / IN`.
_BY_ID = re.compile(rf'\bWHERE\b.*"{TABLE}"\."id" (?:=|IN)', re.DOTALL)


def _months_of_2030() -> None:
    ensure_partitions([TABLE], today=dt.date(2030, 1, 1), months_ahead=11)


def _in_march_2030(*rows: Notification) -> None:
    Notification.objects.filter(pk__in=[r.pk for r in rows]).update(created_at=IN_MARCH_2030)
    for row in rows:
        row.refresh_from_db()
        assert _where(row.pk) == partition_name(TABLE, dt.date(2030, 3, 1))


def _by_id_scans(queries: CaptureQueriesContext) -> list[tuple[str, set[str]]]:
    """Each captured statement on the outbox by id, with the partitions its plan reads."""
    found = []
    for query in queries.captured_queries:
        sql = query["sql"]
        if f'"{TABLE}"' in sql and _BY_ID.search(sql):
            found.append((sql.split(" ", 1)[0], _scanned(sql, None)))
    assert found, "no statement by id was captured"
    return found


def test_stale_claims_are_put_back_by_id_and_month(db):
    _months_of_2030()
    long_ago = timezone.now() - dt.timedelta(hours=2)
    rows = [
        Notification.objects.create(
            event="e",
            channel="email",
            recipient="a@example.org",
            idempotency_key=f"stale-{i}",
            status=NotificationStatus.SENDING,
            claimed_at=long_ago,
            attempts=1,
        )
        for i in range(2)
    ]
    _in_march_2030(*rows)
    with CaptureQueriesContext(connection) as queries:
        assert requeue_stale()["requeued"] == 2
    assert _by_id_scans(queries) == [("UPDATE", {partition_name(TABLE, dt.date(2030, 3, 1))})]
    assert set(Notification.objects.values_list("status", flat=True)) == {
        NotificationStatus.PENDING
    }


def test_a_resend_reads_and_writes_the_rows_month_only(db, unit_a, admin_a):
    _months_of_2030()
    row = Notification.objects.create(
        event="e",
        unit=unit_a,
        channel="email",
        recipient="a@example.org",
        idempotency_key="failed-1",
        status=NotificationStatus.FAILED,
    )
    _in_march_2030(row)
    with CaptureQueriesContext(connection) as queries:
        notification_resend(notification=row, acting_user=admin_a)
    march = {partition_name(TABLE, dt.date(2030, 3, 1))}
    assert _by_id_scans(queries) == [("SELECT", march), ("UPDATE", march)]
    row.refresh_from_db()
    assert row.status == NotificationStatus.PENDING and row.queued_at is not None


def test_the_digest_locks_and_gathers_its_items_by_id_and_month(db):
    _months_of_2030()

    def item(key: str) -> Notification:
        return Notification.objects.create(
            event="e", channel="digest", recipient="a@example.org", idempotency_key=key
        )

    first = item("held-1")
    _in_march_2030(first)
    later = dt.datetime(2030, 3, 10, 1, 0, tzinfo=dt.UTC)
    with CaptureQueriesContext(connection) as queries:
        assert digest_collect(now=later) == 1
    march = {partition_name(TABLE, dt.date(2030, 3, 1))}
    assert _by_id_scans(queries) == [("UPDATE", march)]  # the items join their digest

    # Another item the same day joins the digest still pending, which is locked first.
    second = item("held-2")
    _in_march_2030(second)
    digest = Notification.objects.get(event="digest")
    with CaptureQueriesContext(connection) as queries:
        assert digest_collect(now=later) == 0
    digest_month = {partition_name(TABLE, month_start(digest.created_at.astimezone(dt.UTC).date()))}
    assert _by_id_scans(queries) == [("SELECT", digest_month), ("UPDATE", march)]
    assert set(digest.digest_items.values_list("idempotency_key", flat=True)) == {
        "held-1",
        "held-2",
    }


def _inapp_rows(user_ids: list[int], *, per_month: int) -> None:
    """`per_month` in-app rows for each user in each month of 2030 (set-based)."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {TABLE} (event, channel, recipient, level, idempotency_key, status, "
            "attempts, created_at, sent_at, last_error, user_id) "
            "SELECT 'e', 'inapp', '', 0, 'inbox:' || u || ':' || m || ':' || i, 'sent', 0, "
            "t, t, '', u FROM unnest(%s::bigint[]) u, generate_series(0, 11) m, "
            "generate_series(1, %s) i, "
            "LATERAL (SELECT timestamptz '2030-01-01 00:00+00' + make_interval(months => m, "
            "mins => i) t) at",
            [user_ids, per_month],
        )
        cursor.execute(f"ANALYZE {TABLE}")


def _rows_read(sql: str, params: list[Any]) -> tuple[str, int]:
    """The plan (EXPLAIN ANALYZE) and the rows the outbox's partitions gave it."""
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) {sql}", params)
        plan = "\n".join(r[0] for r in cursor.fetchall())
    # Each scan of a partition's rows (a bitmap's index part reads no rows of its own).
    scans = re.findall(
        rf"^\s*(?:->\s*)?((?:Bitmap Heap|Index|Index Only|Seq) Scan(?: Backward)?) "
        rf"[^\n]*\bon {TABLE}_p\w+ [^\n]*\(actual rows=(\d+) loops=(\d+)\)",
        plan,
        re.MULTILINE,
    )
    return plan, sum(int(rows) * int(loops) for _scan, rows, loops in scans)


def test_the_inbox_page_merges_the_months_and_stops_at_its_limit(db):
    _months_of_2030()
    users = UserFactory.create_batch(4)
    _inapp_rows([u.pk for u in users], per_month=30)
    me = users[0]
    page = inbox_for_user(user=me)[:50]
    sql, params = page.query.sql_with_params()
    plan, read = _rows_read(sql, list(params))
    assert "Merge Append" in plan and "Index Scan Backward" in plan, plan
    # The page's 50 rows and at most one more per live month: not the user's 360.
    live = len(partitions(TABLE))
    assert 50 <= read <= 50 + live, plan
    newest = list(page)
    assert len(newest) == 50 and all(n.user_id == me.pk for n in newest)
    assert newest[0].created_at == max(n.created_at for n in newest)
    assert newest[0].created_at.month == 12
