"""Patches of library internals: applied only inside their tested ranges, with a fallback.

The installed versions must be inside every patch's range: when a lock update moves a library out
of it, this fails, so the patch is re-tested and its range moved on purpose (or the patch retired).
"""

from __future__ import annotations

import subprocess
import sys
import warnings

import bambi as bmb
import pytest

from course_pkg import _patches
from course_pkg._patches import PATCHES, Patch, PatchSkippedWarning


@pytest.mark.parametrize("name", sorted(PATCHES))
def test_installed_versions_are_inside_every_patch_range(name):
    patch = PATCHES[name]
    assert patch.in_range(), (
        f"patch {name!r} is tested with {patch.distribution} {patch.versions}, but "
        f"{patch.installed()} is installed: re-test the patch and move its range, or retire it"
    )


def test_outside_its_range_a_patch_is_skipped_with_one_clear_warning(monkeypatch):
    old = Patch("bambi_order", "bambi", "<0.1", "draws may differ between processes")
    monkeypatch.setitem(PATCHES, "bambi_order", old)
    monkeypatch.setattr(_patches, "_warned", set())
    with pytest.warns(PatchSkippedWarning, match=r"'bambi_order'.*bambi <0\.1.*own behaviour"):
        assert _patches.enabled("bambi_order") is False
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # only once per patch
        assert _patches.enabled("bambi_order") is False


def test_disabling_by_environment_and_unknown_names(monkeypatch):
    monkeypatch.setenv(_patches.DISABLE_ENV, "nutpie_wrapper")
    assert _patches.enabled("nutpie_wrapper") is False
    assert _patches.enabled("bambi_order") is True
    monkeypatch.setenv(_patches.DISABLE_ENV, "off")
    assert not any(_patches.enabled(name) for name in PATCHES)
    with pytest.raises(KeyError, match="no patch called 'nope'"):
        _patches.enabled("nope")


def test_bambi_order_is_still_needed_and_applied():
    """Bambi 0.21 still returns the auxiliary parameters as a set; the patch returns a list in
    the likelihood's order (and is what keeps a Student-t fit's draws the same across processes).
    """
    family = bmb.Family("t", bmb.Likelihood("StudentT", params=["mu", "sigma", "nu"],
                                            parent="mu"), link={"mu": "identity"})
    assert family.auxiliary_parameters == ["sigma", "nu"]
    from bambi.families.family import Family

    original = Family.__dict__["auxiliary_parameters"].fget
    assert original.__module__ == "course_pkg._bambi_order"


def test_outside_range_course_pkg_imports_and_keeps_library_behaviour():
    """A fresh process whose patches all fall outside their ranges imports course_pkg with one
    warning per patch and leaves Bambi's own property in place."""
    probe = (
        "import importlib.util, sys, warnings\n"
        f"spec = importlib.util.spec_from_file_location('course_pkg._patches', {_patches.__file__!r})\n"
        "_patches = importlib.util.module_from_spec(spec)\n"
        "sys.modules['course_pkg._patches'] = _patches\n"
        "spec.loader.exec_module(_patches)\n"
        "for name, p in list(_patches.PATCHES.items()):\n"
        "    _patches.PATCHES[name] = _patches.Patch(name, p.distribution, '<0.0.1', p.lost)\n"
        "with warnings.catch_warnings(record=True) as seen:\n"
        "    warnings.simplefilter('always')\n"
        "    import course_pkg\n"
        "import bambi\n"
        "prop = bambi.Family.__dict__['auxiliary_parameters'].fget\n"
        "print(sorted({str(w.message).split(chr(39))[1] for w in seen\n"
        "              if w.category is _patches.PatchSkippedWarning}), prop.__module__)\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         check=True, timeout=300).stdout.strip().splitlines()[-1]
    assert out == "['bambi_order', 'nutpie_wrapper'] bambi.families.family"


@pytest.mark.slow
def test_comma_free_dims_is_still_needed(monkeypatch):
    """Without the patch, nutpie (0.16.11) splits Bambi's 'bs(x, df=3)_dim' at its comma and the
    fit fails; when a nutpie release stops doing so, this fails and the patch can be retired."""
    import numpy as np
    import pandas as pd

    from course_pkg.sampling import fit_bambi

    rng = np.random.default_rng(5)
    df = pd.DataFrame({"x": rng.uniform(0, 1, 60)})
    df["y"] = np.sin(4 * df["x"]) + rng.normal(0, 0.2, 60)
    monkeypatch.setenv(_patches.DISABLE_ENV, "comma_free_dims")
    with pytest.raises(Exception) as info:  # noqa: B017 - whatever nutpie's conversion raises
        fit_bambi(bmb.Model("y ~ bs(x, df=3)", df), random_seed=1, draws=50, tune=50, chains=1,
                  log_likelihood=False)
    assert "bs(x" in str(info.value) or "df=3)_dim" in str(info.value), str(info.value)
