"""SeaTable's SQL over the stored rows: parse (sqlglot), compile to the backend's SQL, run
(``run.run_sql``); view filters and sorts share the cell expressions (``viewfilters``).

See docs/sql.md for the dialect served and what is refused.
"""
