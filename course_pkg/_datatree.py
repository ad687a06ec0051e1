"""The few operations course_pkg needs on fitted results, which PyMC 6 returns as a DataTree.

PyMC 6, nutpie and ArviZ 1 hold a fit as an :class:`xarray.DataTree` whose children are the
groups ArviZ names (``posterior``, ``sample_stats``, ``log_likelihood``, ...). A child node is
itself a DataTree: its variables index like a Dataset's (``idata.posterior["mu"]``), but selecting
several variables, renaming dimensions or replacing a group go through :class:`xarray.Dataset`.
These helpers keep that in one place, with the course's error messages.
"""

from __future__ import annotations

import xarray as xr

__all__ = ["group", "has_group", "require", "set_group"]


def require(idata, argname: str = "idata", *, group_name: str | None = "posterior") -> None:
    """Raise unless ``idata`` is a DataTree (with the group ``group_name``, when given)."""
    if not isinstance(idata, xr.DataTree):
        raise TypeError(
            f"{argname} must be an xarray.DataTree (what PyMC 6, Bambi 0.21 and ArviZ 1 return "
            f"from a fit), got {type(idata).__name__}"
        )
    if group_name is not None and group_name not in idata.children:
        raise ValueError(
            f"{argname} has no {group_name!r} group (groups present: {list(idata.children)})"
            + ("; fit the model before checking it" if group_name == "posterior" else "")
        )


def has_group(idata: xr.DataTree, name: str) -> bool:
    """Whether ``idata`` has a child group called ``name``."""
    return name in idata.children


def group(idata: xr.DataTree, name: str = "posterior") -> xr.Dataset:
    """Group ``name`` of ``idata`` as an :class:`xarray.Dataset` (variables, coords, attrs)."""
    return idata[name].to_dataset()


def set_group(idata: xr.DataTree, name: str, dataset: xr.Dataset) -> None:
    """Replace (or add) group ``name`` of ``idata`` with ``dataset``, in place."""
    idata[name] = xr.DataTree(dataset)
