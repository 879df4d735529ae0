# Hand-written (no model change): services_close_titles returns the *closest* titles first.
#
# Migration 0003 returned the first max_rows titles its GIN index scan met, so above the
# cap a broad query ("izin usaha" at national scale) kept arbitrary candidates. A GiST
# trigram index can walk the titles in order of word-similarity distance (`<->>`, a
# nearest-neighbour scan that stops after max_rows): the services named most like the
# query are always among the candidates. It also serves the `%>` test, so the GIN title
# index of 0003 goes (one index less to write).
#
# SQLite (`make run`) has none of these: there the operations do nothing.

from django.db import migrations

TITLE = "(name || ' ' || keywords)"

INDEX = (
    f"CREATE INDEX service_title_trgm_gist ON services_service USING gist ({TITLE} gist_trgm_ops)"
)

FUNCTION = f"""
CREATE OR REPLACE FUNCTION services_close_titles(query text, max_rows integer)
RETURNS SETOF bigint
LANGUAGE sql STABLE PARALLEL SAFE ROWS 100
SET enable_seqscan = off
AS $$
    SELECT id FROM services_service WHERE {TITLE} %> query
    ORDER BY {TITLE} <->> query LIMIT max_rows
$$
"""  # noqa: S608 (constants only)

GIN_INDEX = (
    f"CREATE INDEX service_title_trgm_gin ON services_service USING gin ({TITLE} gin_trgm_ops)"
)

PREVIOUS = f"""
CREATE OR REPLACE FUNCTION services_close_titles(query text, max_rows integer)
RETURNS SETOF bigint
LANGUAGE sql STABLE PARALLEL SAFE ROWS 100
SET enable_seqscan = off
AS $$ SELECT id FROM services_service WHERE {TITLE} %> query LIMIT max_rows $$
"""  # noqa: S608 (constants only)


class OnPostgreSQL(migrations.operations.base.Operation):
    """Run the wrapped operation only on PostgreSQL (a copy of the one in 0002)."""

    reduces_to_sql = True
    reversible = True

    def __init__(self, operation):
        self.operation = operation

    def state_forwards(self, app_label, state):
        self.operation.state_forwards(app_label, state)

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            self.operation.database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            self.operation.database_backwards(app_label, schema_editor, from_state, to_state)

    def describe(self):
        return f"{self.operation.describe()} (PostgreSQL only)"

    def deconstruct(self):
        return (self.__class__.__name__, [self.operation], {})


class Migration(migrations.Migration):
    dependencies = [
        ("services", "0003_search_trigram_index"),
    ]

    operations = [
        OnPostgreSQL(migrations.RunSQL(INDEX, "DROP INDEX IF EXISTS service_title_trgm_gist")),
        OnPostgreSQL(migrations.RunSQL(FUNCTION, PREVIOUS)),
        OnPostgreSQL(migrations.RunSQL("DROP INDEX IF EXISTS service_title_trgm_gin", GIN_INDEX)),
    ]
