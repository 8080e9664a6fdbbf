"""Inventory import: every customer starts from the spreadsheet of AI initiatives they already keep.

The import is all or nothing. A pure step (`inventory_parse`) reads and validates the whole file and returns the
rows and every error found; the rows then go through the write step, which runs in one `transaction.atomic` and may
still find errors that need the database (a cost center that belongs to another department, a plan locked while in
review), on a row with bad cells too (only checked, never written). Any error rolls the whole transaction back, so
a bad file writes nothing, and lists every error of both steps at once, in row order (a broken header stops at the
header). A dry run goes through the same write step and rolls it back, so its counts are exactly what a real run
would do. Rows are upserted by `external_id`, compared ignoring letter case (the stored spelling is kept); an
unchanged row writes nothing (it is compared before writing), so re-importing the same file creates no audit entries.

Stage: governed transitions are the only path that moves an initiative's stage, with one documented exception here.
The customer's spreadsheet states where each initiative already is, so an import sets the starting stage on creation,
and on update may move a running initiative (approved, pilot, production) to another running stage or end it
(retired, killed). The intake is never skipped: a row moving an initiative into, within or out of proposed, in
review, changes requested or rejected is refused on its stage cell (the review's quorum, scores and independent
reviewer decide those). Every change is recorded in the audit trail as an import (source, run and file name).

The package is the import's interface; its steps live in `parse` (pure: read and validate the file), `write` (one
row after another, in the caller's transaction) and `runs` (a run's life: create, submit, claim, process, expire).
"""

from portfolio.services.inventory_import.parse import (
    COLUMNS,
    HEADER_LINE,
    LIST_SEPARATOR,
    MAX_FILE_BYTES,
    InventoryRow,
    RowError,
    inventory_parse,
)
from portfolio.services.inventory_import.runs import (
    import_run_create,
    import_run_execute_by_id,
    import_run_submit,
    import_runs_expire_stale,
    inventory_import_run,
)
from portfolio.services.inventory_import.write import NEW_REFERENCE_KINDS

__all__ = [
    "COLUMNS",
    "HEADER_LINE",
    "LIST_SEPARATOR",
    "MAX_FILE_BYTES",
    "NEW_REFERENCE_KINDS",
    "InventoryRow",
    "RowError",
    "import_run_execute_by_id",
    "import_run_create",
    "import_run_submit",
    "import_runs_expire_stale",
    "inventory_import_run",
    "inventory_parse",
]
