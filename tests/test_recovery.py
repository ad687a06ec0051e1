"""Tests for check_recovery over stored draws (no sampling): coverage, chance misses, errors."""

from __future__ import annotations

import arviz as az
import numpy as np
import pytest

from course_pkg.diagnostics import RecoveryError, check_recovery
from course_pkg.recovery import allowed_misses, recovery_summary


@pytest.fixture(scope="module")
def idata():
    rng = np.random.default_rng(0)
    return az.from_dict(
        {"posterior": {"mu": rng.normal(1.0, 0.1, (4, 500)),
                       "u": rng.normal(np.arange(20.0), 0.1, (4, 500, 20))}},
        dims={"u": ["group"]}, coords={"group": [f"g{i}" for i in range(20)]},
    )


def test_covered_values_pass_with_a_row_per_element(idata):
    table = check_recovery(idata, {"mu": 1.0, "u": np.arange(20.0)}, group_effects=["u"])
    assert len(table) == 21
    assert table["covered"].all()
    assert table["parameter"].iloc[1] == "u[g0]"
    lower, upper = np.quantile(idata.posterior["mu"].values.ravel(), [0.025, 0.975])
    np.testing.assert_allclose(table.loc[0, ["lower", "upper"]].to_numpy(float), [lower, upper])
    summary = recovery_summary(table)
    assert summary.loc["u", "misses"] == 0 and summary["passed"].all()


def test_a_scalar_that_misses_raises_naming_it(idata):
    with pytest.raises(RecoveryError, match=r"mu: 1 of 1 miss .*truth 2 outside"):
        check_recovery(idata, {"mu": 2.0, "u": np.arange(20.0)})


def test_vector_misses_within_chance_pass_beyond_it_fail(idata):
    truth = np.arange(20.0)
    truth[:2] += 5  # two of twenty miss: Binomial(20, 0.05) makes that plausible
    table = check_recovery(idata, {"u": truth}, group_effects="u")
    assert (~table["covered"]).sum() == 2
    # ... but not for a population-level vector, every element of which must be covered
    with pytest.raises(RecoveryError, match=r"u: 2 of 20 miss \(at most 0 allowed"):
        check_recovery(idata, {"u": truth})
    truth[:6] += 5  # six of twenty: P(>= 6) is about 3e-4
    with pytest.raises(RecoveryError, match=r"u: 6 of 20 miss \(at most 4 allowed"):
        check_recovery(idata, {"u": truth}, group_effects=["u"])
    shown = check_recovery(idata, {"u": truth}, group_effects=["u"], raise_on_miss=False)
    assert not recovery_summary(shown).loc["u", "passed"]


def test_allowed_misses():
    assert allowed_misses(1, 0.95) == 0
    assert allowed_misses(20, 0.95) == 4  # P(X <= 4) >= 0.99 for Binomial(20, 0.05)
    assert allowed_misses(100, 0.95) == 11
    assert allowed_misses(100, 0.5, alpha=0.5) == 50
    with pytest.raises(ValueError, match="n must be"):
        allowed_misses(0, 0.95)


def test_bad_input(idata):
    with pytest.raises(KeyError, match="not posterior variables"):
        check_recovery(idata, {"sigma": 1.0})
    with pytest.raises(ValueError, match="shape"):
        check_recovery(idata, {"u": np.arange(5.0)})
    with pytest.raises(ValueError, match="prob"):
        check_recovery(idata, {"mu": 1.0}, prob=95)
    with pytest.raises(TypeError, match="mapping"):
        check_recovery(idata, [1.0])
    with pytest.raises(KeyError, match="no entry in truth"):
        check_recovery(idata, {"mu": 1.0}, var_names=["u"])
    with pytest.raises(KeyError, match="no entry in truth"):
        check_recovery(idata, {"mu": 1.0}, group_effects=["u"])
    with pytest.raises(TypeError, match="DataTree"):
        check_recovery(idata.posterior.to_dataset(), {"mu": 1.0})
    with pytest.raises(ValueError, match="finite"):
        check_recovery(idata, {"mu": np.nan})


def test_a_unit_diagonal_off_by_rounding_counts_as_covered():
    cor = np.ones((2, 100)) - 1e-15  # the diagonal of L L^T: 1 up to floating-point rounding
    idata = az.from_dict({"posterior": {"c": cor}})
    assert check_recovery(idata, {"c": 1.0})["covered"].all()
    with pytest.raises(RecoveryError):
        check_recovery(idata, {"c": 1.001})


def test_a_correlation_matrix_is_checked_on_its_strict_lower_triangle():
    rng = np.random.default_rng(3)
    r = rng.normal(0.3, 0.05, (2, 200))
    cor = np.stack([np.stack([np.ones_like(r), r], -1), np.stack([r, np.ones_like(r)], -1)], -2)
    idata = az.from_dict({"posterior": {"cor_g": cor}}, dims={"cor_g": ["g__coef", "g__coef_bis"]},
                         coords={"g__coef": ["a", "b"], "g__coef_bis": ["a", "b"]})
    table = check_recovery(idata, {"cor_g": [[1.0, 0.3], [0.3, 1.0]]})
    assert list(table["parameter"]) == ["cor_g[b, a]"]
    with pytest.raises(RecoveryError, match=r"cor_g: 1 of 1 miss"):
        check_recovery(idata, {"cor_g": [[1.0, 0.9], [0.9, 1.0]]})


def test_the_error_names_group_variables_with_bars():
    rng = np.random.default_rng(4)
    idata = az.from_dict({"posterior": {"1|g": rng.normal(0.0, 0.1, (2, 200, 3))}},
                         dims={"1|g": ["g"]}, coords={"g": ["x", "y", "z"]})
    with pytest.raises(RecoveryError, match=r"1\|g\[x\]: truth 5"):
        check_recovery(idata, {"1|g": [5.0, 0.0, 0.0]})
