"""Make Bambi create a family's auxiliary parameters in a fixed order.

Bambi 0.17's ``Family.auxiliary_parameters`` returns a ``set`` of names, and ``bambi.Model``
creates the parameters (``sigma``, ``nu``, ``psi``, ``alpha``, ...) by iterating over it. The
iteration order of a set of strings depends on Python's per-process hash seed
(``PYTHONHASHSEED``), so for families with two or more auxiliary parameters (Student-t, hurdle and
zero-inflated families, skew-normal, ...) the order of the PyMC free variables, and hence the
layout of the sampler's parameter vector, changed from one Python process to the next. With a
fixed ``random_seed`` the draws then still differed between two executions of the same notebook.

:func:`apply` replaces the property with one that returns the auxiliary parameters in the order
the family's likelihood lists them (a list, which supports everything Bambi does with the set:
``list()``, ``in`` and iteration). No library offers this fix; it is written by hand and applied
once when :mod:`course_pkg` is imported.
"""

from __future__ import annotations

import bambi as bmb


def _ordered_auxiliary_parameters(self) -> list[str]:
    """Names of the family's auxiliary parameters, in the likelihood's declared order."""
    return [p for p in self.likelihood.params if p != self.likelihood.parent]


def apply() -> None:
    """Install the ordered ``auxiliary_parameters`` property on ``bambi.Family`` (idempotent)."""
    bmb.Family.auxiliary_parameters = property(
        _ordered_auxiliary_parameters,
        doc="Names of the auxiliary parameters in a fixed order (patched by course_pkg).",
    )
