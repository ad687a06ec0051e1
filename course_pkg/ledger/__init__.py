"""Reproduction ledgers: every number a chapter's source prints, and how the chapter checks it.

One CSV file per chapter (``course_pkg/ledger/data/<chapter>.csv``) lists each number the source
tutorial prints, or that the course's brms reference fits give, with its printed value and
precision, where it comes from, and either how the chapter checks it or why it does not. A
chapter's last cells compute its own value for every checked row and call :func:`check_ledger`,
which compares them at the printed precision plus a few Monte Carlo standard errors
(:func:`ledger_tolerance`) and raises on any miss, on a checked row the notebook did not produce,
and on a value that no row names.

Columns of a ledger file:

``id``
    Unique key; the notebook passes its value under this key.
``model``, ``quantity``, ``statistic``
    What the number is (``statistic``: ``mean``, ``sd``, ``q2.5``, ``rhat``, ``elpd_diff``, ...).
``printed``, ``decimals``
    The number as printed, and its decimal places.
``kind``
    ``result``, ``setting`` or ``data``.
``origin``, ``location``, ``note``
    ``source`` or ``reference``; where in that file; context.
``check``
    ``compare`` (a posterior or Monte Carlo quantity: printed precision plus ``k`` MCSEs),
    ``exact`` (a deterministic quantity: ours must round to the printed value) or
    ``not-checked``.
``k``
    MCSEs allowed for ``compare`` rows (empty: 4, so that a correct fit fails any of about a
    hundred rows with probability under 1%; about 3.6% for chapter 2's 579).
``reason``
    Why a row is not checked (required then), or a remark on the check.

Hand-written: no library keeps such a ledger.
"""


from course_pkg.ledger._check import check_ledger, ledger_tolerance, source_mcse
from course_pkg.ledger._table import (
    COLUMNS,
    REPORT_COLUMNS,
    LedgerError,
    load_ledger,
)
from course_pkg.ledger._values import fit_values, glue_ledger

__all__ = ["COLUMNS", "REPORT_COLUMNS", "LedgerError", "check_ledger", "fit_values",
           "glue_ledger", "ledger_tolerance", "load_ledger", "source_mcse"]
