"""course_pkg.data: registry, tidy frames and every failure mode of the loader."""

from __future__ import annotations

import shutil

import pandas as pd
import pooch
import pytest

from course_pkg import data
from course_pkg.data import (
    DataIntegrityError,
    DataNotFoundError,
    dataset_path,
    list_datasets,
    load_dataset,
)

EXPECTED_SHAPES = {
    "mlm": (219, 6),
    "williams": (13033, 10),
    "gpa": (1200, 10),
    "cheese": (160, 5),
    "handel_simdat": (264, 8),
}


def test_registry_matches_sources_md(data_dir):
    text = (data_dir / "SOURCES.md").read_text()
    for ds in data.DATASETS.values():
        assert ds.url in text, ds.name
        assert ds.sha256 in text, ds.name


@pytest.mark.parametrize("name", sorted(EXPECTED_SHAPES))
def test_load_shapes_and_no_network(name, data_dir, monkeypatch):
    def no_download(*args, **kwargs):
        raise AssertionError("loader tried to download although the file is local")

    monkeypatch.setattr(pooch, "retrieve", no_download)
    df = load_dataset(name, data_dir=data_dir)
    assert isinstance(df, pd.DataFrame)
    assert df.shape == EXPECTED_SHAPES[name]


def test_mlm_tidy(data_dir):
    df = load_dataset("mlm", data_dir=data_dir)
    assert isinstance(df["id"].dtype, pd.CategoricalDtype)
    assert df["id"].nunique() == 91
    assert list(df["group"].cat.categories) == ["CTRL", "PD"]
    assert df["week"].isna().sum() == 3
    complete = df.dropna(subset=["week"])
    assert len(complete) == 216 and complete["id"].nunique() == 88


def test_williams_tidy(data_dir):
    df = load_dataset("williams", data_dir=data_dir)
    assert df["id"].nunique() == 193
    assert {"na_std", "pa_std", "na_lag", "pa_lag", "day01"} <= set(df.columns)
    assert df["day01"].min() == 0.0 and df["day01"].max() == 1.0
    days = df.groupby("id", observed=True).size()
    assert days.min() == 8 and days.max() == 99 and days.median() == 74


def test_gpa_tidy(data_dir):
    df = load_dataset("gpa", data_dir=data_dir)
    assert df["student"].nunique() == 200
    assert sorted(df["occasion"].unique()) == [0, 1, 2, 3, 4, 5]
    assert df["occas"].cat.ordered


def test_cheese_tidy(data_dir):
    df = load_dataset("cheese", data_dir=data_dir)
    assert df["rater_id"].nunique() == 20
    assert df.groupby(["rater_id", "cheese"], observed=True).size().eq(2).all()
    assert list(df["background"].cat.categories) == ["rural", "urban"]


def test_handel_tidy(data_dir):
    df = load_dataset("handel_simdat", data_dir=data_dir)
    assert list(df["dose_cat"].cat.categories) == ["low", "medium", "high"]
    assert df["dose_cat"].cat.ordered
    assert df.groupby("dose_cat", observed=True)["id"].nunique().tolist() == [7, 8, 9]


def test_env_var_names_the_folder(data_dir, monkeypatch):
    monkeypatch.setenv(data.DATA_DIR_ENV, str(data_dir))
    assert dataset_path("cheese") == data_dir / "cheese.csv"


def test_unknown_name_lists_valid_names():
    with pytest.raises(ValueError, match="unknown dataset name 'cheeses'") as info:
        load_dataset("cheeses")
    for name in list_datasets():
        assert name in str(info.value)


def test_name_must_be_str():
    with pytest.raises(TypeError, match="name must be a str"):
        load_dataset(3)


def test_missing_file_offline_explains_fixes(tmp_path, monkeypatch):
    """No local copy, no cache, no network: the error names the file, folders and both fixes."""
    monkeypatch.setenv(data.DATA_DIR_ENV, str(tmp_path / "empty"))
    monkeypatch.setattr(data, "cache_dir", lambda: tmp_path / "cache")

    def offline(*args, **kwargs):
        raise ConnectionError("network is unreachable")

    monkeypatch.setattr(pooch, "retrieve", offline)
    with pytest.raises(DataNotFoundError) as info:
        load_dataset("gpa")
    msg = str(info.value)
    assert "gpa.csv" in msg
    assert str(tmp_path / "empty") in msg and str(tmp_path / "cache") in msg
    assert "COURSE_DATA_DIR" in msg and "internet" in msg


def test_explicit_data_dir_without_file_does_not_download(tmp_path, monkeypatch):
    monkeypatch.setattr(pooch, "retrieve", lambda *a, **k: pytest.fail("went online"))
    with pytest.raises(DataNotFoundError, match="mlm.csv"):
        load_dataset("mlm", data_dir=tmp_path)


def test_local_hash_mismatch_is_rejected(tmp_path, data_dir):
    bad = tmp_path / "cheese.csv"
    shutil.copy(data_dir / "cheese.csv", bad)
    with bad.open("a") as fh:
        fh.write('"A",1,"rural",99\n')
    with pytest.raises(DataIntegrityError, match="sha256"):
        load_dataset("cheese", data_dir=tmp_path)


def test_cached_hash_mismatch_is_rejected(tmp_path, monkeypatch):
    monkeypatch.delenv(data.DATA_DIR_ENV, raising=False)
    monkeypatch.setattr(data, "cache_dir", lambda: tmp_path)
    (tmp_path / "cheese.csv").write_text("tampered\n")
    with pytest.raises(DataIntegrityError, match="does not match the registry"):
        load_dataset("cheese")


@pytest.fixture
def local_server(tmp_path, serve_folder):
    """A folder served over loopback HTTP; yields (folder, base URL without trailing slash)."""
    served = tmp_path / "served"
    served.mkdir()
    return served, serve_folder(served).rstrip("/")


def _serve_as(monkeypatch, name, url):
    fake = data.DATASETS[name].__class__(**{**data.DATASETS[name].__dict__, "url": url})
    monkeypatch.setitem(data.DATASETS, name, fake)


def test_download_with_wrong_hash_is_not_kept(tmp_path, monkeypatch, local_server):
    """A real download (over loopback) whose bytes differ from the registry is discarded."""
    served, base = local_server
    monkeypatch.delenv(data.DATA_DIR_ENV, raising=False)
    monkeypatch.setattr(data, "cache_dir", lambda: tmp_path / "cache")
    (served / "mlm.csv").write_text("id,group\n1,PD\n")
    _serve_as(monkeypatch, "mlm", f"{base}/mlm.csv")
    with pytest.raises(DataIntegrityError, match="discarded"):
        load_dataset("mlm")
    assert not (tmp_path / "cache" / "mlm.csv").exists()


def test_download_with_right_hash_is_cached(tmp_path, monkeypatch, data_dir, local_server):
    served, base = local_server
    monkeypatch.delenv(data.DATA_DIR_ENV, raising=False)
    monkeypatch.setattr(data, "cache_dir", lambda: tmp_path / "cache")
    shutil.copy(data_dir / "cheese.csv", served / "cheese.csv")
    _serve_as(monkeypatch, "cheese", f"{base}/cheese.csv")
    df = load_dataset("cheese")
    assert df.shape == (160, 5)
    assert (tmp_path / "cache" / "cheese.csv").is_file()
