"""SeaTable's SQL over the stored rows: parse (sqlglot), compile to the backend's SQL, run.

See docs/sql.md for the dialect served and what is refused.
"""

from atoll.services.sql.run import MAX_WRITE_ROWS, SqlResult, run_sql
from atoll.services.sql.statements import DEFAULT_LIMIT, MAX_LIMIT

__all__ = ["DEFAULT_LIMIT", "MAX_LIMIT", "MAX_WRITE_ROWS", "SqlResult", "run_sql"]
