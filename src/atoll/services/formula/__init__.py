"""SeaTable's formula language (the common part), evaluated by atoll's own parser.

- ``syntax``: tokens and the tree; ``values``: coercions and error texts;
- ``functions``: the supported functions; ``compiler``: checks a formula, infers its
  ``result_type`` and evaluates it on a row; ``table``: a table's formulas in dependency order,
  per-row computation and whole-table recomputation.

See docs/computed-columns.md.
"""

from atoll.services.formula.compiler import FormulaRejected
from atoll.services.formula.syntax import rename_reference
from atoll.services.formula.table import (
    Plan,
    compile_table,
    is_volatile,
    plan,
    recompute_table,
    referenced_names,
)

__all__ = [
    "FormulaRejected",
    "Plan",
    "compile_table",
    "is_volatile",
    "plan",
    "recompute_table",
    "referenced_names",
    "rename_reference",
]
