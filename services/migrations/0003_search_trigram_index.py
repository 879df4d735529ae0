# Hand-written (no model change): an index and a function for services.search on PostgreSQL.
#
# The search picks its candidates with index-served predicates only: the stored vector
# (service_search_vector_gin, migration 0002), and the service's "title" (its name and
# keywords) as trigrams, indexed here. The expression must read exactly like
# services.search.TitleText, or PostgreSQL will not use the index.
#
# services_close_titles(query, max_rows): the first max_rows services whose title has
# words close to the query (`%>`, word similarity at pg_trgm.word_similarity_threshold).
# It reads the trigram index, never the whole table: pg_trgm's row estimate cannot tell
# where the matches lie, and under a LIMIT PostgreSQL may otherwise choose a table scan
# meant to stop early, which runs the costly trigram test on every row it meets (tens of
# milliseconds at 10,000 services when the matches are few or far apart).
#
# SQLite (`make run`) has none of these: there the operations do nothing.

from django.db import migrations

TITLE = "(name || ' ' || keywords)"

INDEX = f"CREATE INDEX service_title_trgm_gin ON services_service USING gin ({TITLE} gin_trgm_ops)"

FUNCTION = f"""
CREATE FUNCTION services_close_titles(query text, max_rows integer) RETURNS SETOF bigint
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
        ("services", "0002_service_search_vector"),
    ]

    operations = [
        OnPostgreSQL(migrations.RunSQL(INDEX, "DROP INDEX IF EXISTS service_title_trgm_gin")),
        OnPostgreSQL(
            migrations.RunSQL(
                FUNCTION, "DROP FUNCTION IF EXISTS services_close_titles(text, integer)"
            )
        ),
    ]
