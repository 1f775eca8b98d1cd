"""Where a table lies: the checks on its path, its format, and the one table in a .zip.

Standard library only: the CLI checks a path and an encoding with this module before
pandas and the model libraries are imported, so a typo costs a fraction of a second.
"""

from __future__ import annotations

import os
import zipfile
from dataclasses import dataclass
from pathlib import Path

from automl.errors import DataError, first_line

# Each text format's separator; a .csv or .txt may turn out to use another (ingest sniffs).
DELIMITERS = {".csv": ",", ".tsv": "\t", ".txt": ","}
PARQUET = (".parquet", ".pq")
COMPRESSIONS = (".gz", ".bz2", ".zip")
READABLE = "automl reads .csv, .tsv, .txt and .parquet files, also as .gz, .bz2 or .zip"
ENCODING_HINT = "give the file's encoding with --encoding (encoding= in Python)"


@dataclass(frozen=True)
class DataFile:
    """A table file: its path, the table's format, its compression, its name in a .zip."""

    path: Path
    format: str  # one of DELIMITERS or PARQUET
    compression: str | None = None  # one of COMPRESSIONS
    member: str | None = None  # the table's name inside a .zip

    @property
    def label(self) -> str:
        """How messages name it."""
        return f"{self.path} ({self.member})" if self.member else str(self.path)

    @property
    def delimiter(self) -> str | None:
        """The format's separator; None for Parquet."""
        return DELIMITERS.get(self.format)


def pinned(source):
    """`source` as an absolute path if it is a path (anything else as it is): taken before
    joining a cluster, whose first job can see its working folder unpacked anew as its
    driver joins (automl.search.cluster._back_to), so relative paths would find nothing."""
    return Path(source).absolute() if isinstance(source, (str, os.PathLike)) else source


def locate(source: str | Path) -> DataFile:
    """The table file at `source`, checked to exist, be readable by its name, and hold bytes."""
    path = Path(source)
    if not path.exists():
        raise DataError(f"file not found: {path}; check the path (relative to {_working_folder()})")
    if path.is_dir():
        raise DataError(f"{path} is a folder; give the path of one .csv or .parquet file")
    table_format, compression = _format(path.name)
    if table_format is None and compression != ".zip":
        raise DataError(f"unsupported file type {path.suffix or '(none)'!r} for {path}; {READABLE}")
    if path.stat().st_size == 0:
        raise DataError(f"{path} is empty (0 bytes); give a table with a header and rows")
    if compression == ".zip":
        return _zip_member(path)
    return DataFile(path, table_format, compression)


def _working_folder() -> str:
    try:
        return os.getcwd()
    except FileNotFoundError:  # deleted under this process
        return os.environ.get("PWD", "this process's working folder, which no longer exists")


def _format(name: str) -> tuple[str | None, str | None]:
    """('.csv', '.gz') for 'a.CSV.gz'; the format is None when automl cannot read it."""
    suffixes = [s.lower() for s in Path(name).suffixes]
    compression = suffixes.pop() if suffixes and suffixes[-1] in COMPRESSIONS else None
    table_format = suffixes[-1] if suffixes else None
    return (table_format if table_format in (*DELIMITERS, *PARQUET) else None), compression


def _zip_member(path: Path) -> DataFile:
    """The .zip's one table; an archive of several would leave us guessing which to learn."""
    try:
        with zipfile.ZipFile(path) as archive:
            names = [item.filename for item in archive.infolist()
                     if not item.is_dir() and not item.filename.startswith("__MACOSX/")]
    except (zipfile.BadZipFile, OSError) as err:
        raise DataError(f"could not open {path} as a .zip archive: {first_line(err)}; "
                        "check the file, or unzip it and give the table itself") from None
    tables = [name for name in names if _is_plain_table(name)]
    if not tables:
        held = ", ".join(names[:10]) or "nothing"
        raise DataError(f"{path} holds no table (it holds: {held}); {READABLE}")
    if len(tables) > 1:
        raise DataError(f"{path} holds {len(tables)} tables ({', '.join(tables[:10])}); automl "
                        "reads one table per .zip: unzip it and give the one to learn from")
    return DataFile(path, _format(tables[0])[0], ".zip", tables[0])


def _is_plain_table(name: str) -> bool:
    table_format, compression = _format(name)
    return table_format is not None and compression is None

