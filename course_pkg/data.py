"""Course datasets: a registry, verified downloads and tidy loaders.

Each dataset is a CSV published alongside one of the five source tutorials. The loader looks for
the file in this order:

1. the folder given as ``data_dir=`` to :func:`load_dataset`;
2. the folder named by the environment variable ``COURSE_DATA_DIR`` (tests and CI point it at
   ``../shared/data``);
3. a per-user cache (``pooch.os_cache("course_pkg")``), downloading into it from the dataset's URL
   when the file is not there yet.

Every file is checked against its SHA-256 before it is parsed, wherever it came from. Downloads
are handled by :mod:`pooch`; only the tidy-up of each table is written here.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pooch

__all__ = [
    "DATA_DIR_ENV",
    "DATASETS",
    "DataNotFoundError",
    "DataIntegrityError",
    "Dataset",
    "cache_dir",
    "dataset_path",
    "list_datasets",
    "load_dataset",
]

#: Environment variable naming a local folder that holds the course CSV files.
DATA_DIR_ENV = "COURSE_DATA_DIR"


class DataNotFoundError(FileNotFoundError):
    """A dataset file is neither in a local folder nor downloadable right now."""


class DataIntegrityError(ValueError):
    """A dataset file exists but its SHA-256 does not match the registry."""


@dataclass(frozen=True)
class Dataset:
    """One entry of the dataset registry.

    Attributes
    ----------
    name : str
        Short name used by :func:`load_dataset`.
    file : str
        File name on disk.
    url : str
        Where the original file is published.
    sha256 : str
        Expected SHA-256 of the file's bytes.
    description : str
        One line on what the table holds and which chapter uses it.
    tidy : callable
        Turns the raw ``pandas.read_csv`` frame into the documented tidy frame.
    """

    name: str
    file: str
    url: str
    sha256: str
    description: str
    tidy: Callable[[pd.DataFrame], pd.DataFrame]


# --- tidy-up functions, one per dataset -------------------------------------------------------


def _tidy_mlm(raw: pd.DataFrame) -> pd.DataFrame:
    df = raw.copy()
    df["id"] = pd.Categorical(df["id"].astype(int), ordered=False)
    df["group"] = pd.Categorical(df["group"], categories=["CTRL", "PD"])
    df["week"] = df["week"].astype(float)
    df["wave"] = df["wave"].astype(int)
    return df[["id", "group", "week", "wave", "con", "dan"]]


def _tidy_williams(raw: pd.DataFrame) -> pd.DataFrame:
    # The published file uses R-style names with dots; formulas are easier with snake_case.
    df = raw.rename(
        columns={
            "PA.std": "pa_std",
            "NA.std": "na_std",
            "PA_lag": "pa_lag",
            "NA_lag": "na_lag",
            "steps.pm": "steps_pm",
            "steps.pmd": "steps_pmd",
        }
    )
    df["id"] = pd.Categorical(df["id"].astype(int))
    df["female"] = df["female"].astype(int)
    df["day"] = df["day"].astype(int)
    # The source's time scale: 0 on each person's first diary day, 1 on the last day in the study.
    df["day01"] = (df["day"] - 2) / (df["day"] - 2).max()
    cols = ["id", "female", "day", "day01", "na_std", "pa_std", "na_lag", "pa_lag"]
    return df[cols + ["steps_pm", "steps_pmd"]]


def _tidy_gpa(raw: pd.DataFrame) -> pd.DataFrame:
    df = raw.copy()
    df["student"] = pd.Categorical(df["student"].astype(int))
    occas_levels = [f"year {y} semester {s}" for y in (1, 2, 3) for s in (1, 2)]
    df["occas"] = pd.Categorical(df["occas"], categories=occas_levels, ordered=True)
    df["job"] = pd.Categorical(
        df["job"], categories=["0 hours", "1 hour", "2 hours", "3 hours"], ordered=True
    )
    df["sex"] = pd.Categorical(df["sex"], categories=["female", "male"])
    df["admitted"] = pd.Categorical(df["admitted"], categories=["no", "yes"])
    for col in ("year", "semester", "occasion"):
        df[col] = df[col].astype(int)
    return df


def _tidy_cheese(raw: pd.DataFrame) -> pd.DataFrame:
    df = raw.copy()
    df["cheese"] = pd.Categorical(df["cheese"], categories=["A", "B", "C", "D"])
    df["background"] = pd.Categorical(df["background"], categories=["rural", "urban"])
    df["rater"] = df["rater"].astype(int)
    df["y"] = df["y"].astype(float)
    # Rater numbers repeat across backgrounds: rater 1 rural and rater 1 urban are two people.
    df["rater_id"] = pd.Categorical(
        df["background"].astype(str) + "_" + df["rater"].astype(str).str.zfill(2)
    )
    return df[["cheese", "rater", "background", "rater_id", "y"]]


def _tidy_handel(raw: pd.DataFrame) -> pd.DataFrame:
    df = raw.copy()
    df["id"] = df["id"].astype(int)
    df["dose_cat"] = pd.Categorical(
        df["dose_cat"], categories=["low", "medium", "high"], ordered=True
    )
    df["model"] = df["model"].astype(str)
    for col in ("dose", "dose_adj", "time", "mu", "outcome"):
        df[col] = df[col].astype(float)
    return df[["id", "dose", "dose_adj", "dose_cat", "time", "mu", "outcome", "model"]]


DATASETS: dict[str, Dataset] = {
    d.name: d
    for d in [
        Dataset(
            "mlm",
            "mlm.csv",
            "https://raw.githubusercontent.com/sjweston/uobayes/refs/heads/main/files/data/"
            "external_data/mlm.csv",
            "c426280122e5d2ba4795bbe035b18f7e5cba3ffdd30c769ba2a44b92f05ce7eb",
            "Conscientiousness (con) of 91 people over weeks, PD and CTRL groups (chapter 2).",
            _tidy_mlm,
        ),
        Dataset(
            "williams",
            "williams.csv",
            "https://raw.githubusercontent.com/sjweston/uobayes/refs/heads/main/files/data/"
            "external_data/williams.csv",
            "22068276f672cd238cd8447b717c20fb9e7de2faf31f6dae6cfd857ce389e0c2",
            "Daily negative and positive affect of 193 people, Williams et al. (chapter 5).",
            _tidy_williams,
        ),
        Dataset(
            "gpa",
            "gpa.csv",
            "https://raw.githubusercontent.com/m-clark/mixed-models-with-R/master/data/gpa.csv",
            "7c1eec50027b5ad9c82e118ef5b0d46bf30e300ddd195602b301856d9bc1c48c",
            "GPA of 200 students over 6 semesters (chapter 3).",
            _tidy_gpa,
        ),
        Dataset(
            "cheese",
            "cheese.csv",
            "https://raw.githubusercontent.com/storopoli/Bayesian-Julia/master/datasets/cheese.csv",
            "7b67119f26837b55959f6fcc1fa6a03c1a357b39b3ee8446ffcd0699b6d59e5d",
            "Ratings of 4 cheeses by 10 rural and 10 urban raters, 2 samples each (chapter 4).",
            _tidy_cheese,
        ),
        Dataset(
            "handel_simdat",
            "handel_simdat.csv",
            "https://raw.githubusercontent.com/andreashandel/andreashandelwebsite/main/posts/"
            "2022-02-22-longitudinal-multilevel-bayes-1/simdat.csv",
            "cdf4bce046bcbc552d0884dda98c1447b4bf055fd4904f7a48e9550672705a32",
            "Handel's simulated log virus loads, 24 people x 11 times, his model 3 (chapter 1).",
            _tidy_handel,
        ),
    ]
}


def list_datasets() -> list[str]:
    """Return the names :func:`load_dataset` accepts, sorted.

    Examples
    --------
    >>> from course_pkg.data import list_datasets
    >>> list_datasets()
    ['cheese', 'gpa', 'handel_simdat', 'mlm', 'williams']
    """
    return sorted(DATASETS)


def cache_dir() -> Path:
    """Return the per-user folder that downloaded datasets are kept in."""
    return Path(pooch.os_cache("course_pkg"))


def _lookup(name: str) -> Dataset:
    if not isinstance(name, str):
        raise TypeError(f"name must be a str naming a dataset, got {type(name).__name__}")
    try:
        return DATASETS[name]
    except KeyError:
        valid = ", ".join(repr(n) for n in list_datasets())
        raise ValueError(f"unknown dataset name {name!r}; valid names are: {valid}") from None


def _check_hash(path: Path, ds: Dataset) -> None:
    actual = pooch.file_hash(str(path), alg="sha256")
    if actual != ds.sha256:
        raise DataIntegrityError(
            f"{path} does not match the registry: sha256 {actual}, expected {ds.sha256}. "
            f"The file is corrupt or a different version; delete it and let the loader download "
            f"{ds.url}, or replace it with the original file."
        )


def dataset_path(name: str, data_dir: str | os.PathLike | None = None) -> Path:
    """Return the local path of a verified copy of a dataset's file.

    Parameters
    ----------
    name : str
        A registry name (see :func:`list_datasets`).
    data_dir : str or path-like, optional
        A folder that holds the file. Overrides the ``COURSE_DATA_DIR`` environment variable.

    Returns
    -------
    pathlib.Path
        The file, its SHA-256 checked.

    Raises
    ------
    ValueError
        ``name`` is not a registered dataset.
    DataNotFoundError
        No local copy and the download failed (offline, say).
    DataIntegrityError
        A local copy exists but its SHA-256 is wrong. A download whose hash is wrong is deleted by
        pooch before this is raised, so a bad file is never kept as valid.

    Examples
    --------
    >>> from course_pkg.data import dataset_path
    >>> dataset_path("cheese").name
    'cheese.csv'
    """
    ds = _lookup(name)
    searched: list[Path] = []
    explicit = data_dir if data_dir is not None else os.environ.get(DATA_DIR_ENV) or None
    if explicit is not None:
        folder = Path(explicit).expanduser()
        candidate = folder / ds.file
        searched.append(folder)
        if candidate.is_file():
            _check_hash(candidate, ds)
            return candidate
        if data_dir is not None:
            # An explicit argument is a promise that the file is there: do not go online.
            raise DataNotFoundError(_missing_message(ds, searched, reason="not in data_dir"))

    cache = cache_dir()
    searched.append(cache)
    cached = cache / ds.file
    if cached.is_file():
        # pooch would re-download silently on a hash mismatch; a user-visible error is clearer.
        _check_hash(cached, ds)
        return cached
    try:
        fetched = pooch.retrieve(
            url=ds.url, known_hash=f"sha256:{ds.sha256}", fname=ds.file, path=cache,
            progressbar=False,
        )
    except ValueError as exc:
        if "hash" not in str(exc).lower():
            raise DataNotFoundError(
                _missing_message(ds, searched, reason=f"download failed: {exc}")
            ) from exc
        # pooch's hash mismatch: it has already deleted the downloaded file.
        raise DataIntegrityError(
            f"the download of {ds.url} does not match the registry's sha256 {ds.sha256}; "
            f"the file was discarded. The published file may have changed. ({exc})"
        ) from exc
    except Exception as exc:  # network errors come in many types (requests, urllib3, OSError)
        raise DataNotFoundError(
            _missing_message(ds, searched, reason=f"download failed: {exc}")
        ) from exc
    return Path(fetched)


def _missing_message(ds: Dataset, searched: list[Path], reason: str) -> str:
    folders = ", ".join(str(p) for p in searched)
    return (
        f"dataset file {ds.file!r} not found ({reason}). Folders searched: {folders}. "
        f"To fix: (1) connect to the internet so the loader can download {ds.url} into "
        f"{cache_dir()}, or (2) put a copy of {ds.file} in a folder and point "
        f"{DATA_DIR_ENV} (or data_dir=) at that folder."
    )


def load_dataset(name: str, data_dir: str | os.PathLike | None = None) -> pd.DataFrame:
    """Load a course dataset as a tidy DataFrame.

    Parameters
    ----------
    name : str
        One of ``'mlm'``, ``'williams'``, ``'gpa'``, ``'cheese'``, ``'handel_simdat'``.
    data_dir : str or path-like, optional
        Folder holding the CSV files; defaults to ``$COURSE_DATA_DIR``, then a download cache.

    Returns
    -------
    pandas.DataFrame
        The table with documented dtypes:

        * ``mlm``: ``id`` (category, person factor), ``group`` (category CTRL/PD), ``week``
          (float; 3 missing), ``wave`` (int), ``con``, ``dan`` (float).
        * ``williams``: ``id`` (category), ``female`` (int 0/1), ``day`` (int), ``day01``
          (float, ``(day - 2) / max(day - 2)``), ``na_std``, ``pa_std`` (standardised negative
          and positive affect), ``na_lag``, ``pa_lag``, ``steps_pm``, ``steps_pmd`` (float).
        * ``gpa``: ``student`` (category), ``occas`` (ordered category), ``gpa`` (float), ``job``
          (ordered category), ``sex``, ``admitted`` (category), ``highgpa`` (float), ``year``,
          ``semester``, ``occasion`` (int, 0-5).
        * ``cheese``: ``cheese`` (category A-D), ``rater`` (int 1-10), ``background`` (category
          rural/urban), ``rater_id`` (category, one level per person, e.g. ``rural_01``), ``y``.
        * ``handel_simdat``: ``id`` (int), ``dose`` (float, log dose), ``dose_adj`` (float, log
          dose minus log middle dose), ``dose_cat`` (ordered category low < medium < high),
          ``time`` (float, days), ``mu``, ``outcome`` (float, log virus load), ``model`` (str).

    Examples
    --------
    >>> from course_pkg.data import load_dataset
    >>> cheese = load_dataset("cheese")
    >>> cheese.shape
    (160, 5)
    """
    ds = _lookup(name)
    path = dataset_path(name, data_dir=data_dir)
    raw = pd.read_csv(path)
    df = ds.tidy(raw)
    df.attrs["source_url"] = ds.url
    df.attrs["name"] = ds.name
    return df.reset_index(drop=True)

