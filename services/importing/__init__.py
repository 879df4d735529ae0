"""Import service standards from one flat table (CSV or XLSX): parse, validate, apply.

One row per service standard, one header row with the names in `COLUMNS`. Import
never publishes: each row creates the service when its slug is new in the agency,
then either a new draft version or, when the service already has a draft in
progress, an update of that draft. Everything goes through services.services.

The package follows the steps: `layout` (the table's columns, cell syntax, limits and
`Issue`), `read` (the file), `parse` (the cells), `plan`, `apply`, and `stage` (the upload
kept between preview and confirmation). Three steps, each callable on its own:
- `table_parse(content=..., kind=...)`: the file alone (format, encoding, header, values);
- `import_plan(agency=..., user=..., content=..., kind=...)`: the file against the
  database (units, permissions, what each row would do), writing nothing;
- `import_apply(...)`: plans again and writes every row in one transaction, or nothing.

Between preview and confirmation the uploaded bytes are kept on the server as a waiting
import job of their uploader (`import_stage`, imports.ImportJob); confirmation claims the
job, so that it is applied once.
"""

from core.tabular import FileKind
from services.importing.apply import ImportResult, import_apply
from services.importing.layout import (
    CHILD_COLUMNS,
    COLUMN_HELP,
    COLUMNS,
    DATA_FIELDS,
    ESCAPABLE,
    ESCAPE,
    FORMULA_STARTS,
    LIST_SEPARATOR,
    MAX_BYTES,
    MAX_PHYSICAL_ROWS,
    MAX_ROWS,
    SERVICE_COLUMNS,
    TEXT_FIELDS,
    ImportRefusedError,
    Issue,
)
from services.importing.parse import ParseResult, RowData, parse_whole_number, table_parse
from services.importing.plan import ImportPlan, PlannedRow, RowAction, import_plan
from services.importing.stage import (
    MAX_STAGED,
    import_cancel,
    import_confirm,
    import_stage,
    staged_content,
)

__all__ = [
    "CHILD_COLUMNS",
    "COLUMNS",
    "COLUMN_HELP",
    "DATA_FIELDS",
    "ESCAPABLE",
    "ESCAPE",
    "FORMULA_STARTS",
    "LIST_SEPARATOR",
    "MAX_BYTES",
    "MAX_PHYSICAL_ROWS",
    "MAX_ROWS",
    "MAX_STAGED",
    "SERVICE_COLUMNS",
    "TEXT_FIELDS",
    "FileKind",
    "ImportPlan",
    "ImportRefusedError",
    "ImportResult",
    "Issue",
    "ParseResult",
    "PlannedRow",
    "RowAction",
    "RowData",
    "import_apply",
    "import_cancel",
    "import_confirm",
    "import_plan",
    "import_stage",
    "parse_whole_number",
    "staged_content",
    "table_parse",
]
