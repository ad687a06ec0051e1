"""The one place that says which library versions course_pkg's patches are tested against.

course_pkg changes library behaviour in a few places (see the performance appendix, "Patches").
Each patch touches private code, so each is applied only while the library it patches is inside
the version range the tests cover. Outside it the library's own behaviour is kept and one
:class:`PatchSkippedWarning` says which patch was skipped, why, and what is lost; nothing fails
from inside the library's private code. ``tests/test_patches.py`` fails when an installed version
leaves a range, so a lock update has to re-test the patch and move its range on purpose.

Setting ``COURSE_PATCHES=off`` (or a comma-separated list of patch names) skips patches without a
warning; the benchmark uses it to measure what each one buys.
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass
from importlib import metadata

from packaging.specifiers import SpecifierSet
from packaging.version import Version

__all__ = ["PATCHES", "DISABLE_ENV", "Patch", "PatchSkippedWarning", "enabled"]

#: Environment variable naming patches to skip (``off``/``all`` skips every one).
DISABLE_ENV = "COURSE_PATCHES"


class PatchSkippedWarning(UserWarning):
    """An installed library is outside a patch's tested range; the patch was not applied."""


@dataclass(frozen=True)
class Patch:
    """A patch of a library's private code and the versions it is tested against."""

    name: str
    distribution: str
    versions: str
    lost: str

    def installed(self) -> str:
        """The installed version of the patched distribution."""
        return metadata.version(self.distribution)

    def in_range(self) -> bool:
        """Whether the installed version is inside :attr:`versions`."""
        return Version(self.installed()) in SpecifierSet(self.versions)


#: Every patch course_pkg applies, by name.
PATCHES = {
    p.name: p
    for p in (
        Patch("bambi_order", "bambi", ">=0.21.0,<0.22",
              "a seeded fit of a family with two or more auxiliary parameters may give other "
              "draws in another Python process"),
        Patch("nutpie_wrapper", "nutpie", ">=0.16.11,<0.17",
              "nutpie compiles its C wrappers anew in every process (seconds per fit)"),
        Patch("comma_free_dims", "nutpie", ">=0.16.11,<0.17",
              "a dimension whose name contains a comma (Bambi's 'bs(x, df=8)_dim') may break "
              "nutpie's conversion of the draws"),
    )
}

_warned: set[str] = set()


def _disabled() -> set[str]:
    value = os.environ.get(DISABLE_ENV, "").strip().lower()
    if value in {"off", "all"}:
        return set(PATCHES)
    return {name.strip() for name in value.split(",") if name.strip()}


def enabled(name: str) -> bool:
    """Whether patch ``name`` should be applied: not disabled and its library in range.

    Outside the tested range, warns once per patch (:class:`PatchSkippedWarning`) and returns
    False, so the caller keeps the library's own behaviour.
    """
    if name not in PATCHES:
        raise KeyError(f"no patch called {name!r}; known patches: {sorted(PATCHES)}")
    if name in _disabled():
        return False
    patch = PATCHES[name]
    if patch.in_range():
        return True
    if name not in _warned:
        _warned.add(name)
        warnings.warn(
            f"course_pkg: patch {name!r} is tested with {patch.distribution} "
            f"{patch.versions}, but {patch.installed()} is installed; the library's own "
            f"behaviour is kept, so {patch.lost}. Install the locked versions "
            f"(locks/runtime.txt) to restore it.",
            PatchSkippedWarning,
            stacklevel=3,
        )
    return False
