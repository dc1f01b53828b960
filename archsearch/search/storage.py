"""`RunStorage`: the run directory on a local disk or any pyarrow filesystem URI.

Every write is atomic (a temporary file, then a rename), so a driver or worker
killed mid-write never leaves a half-written record: readers see the old file
or the new one. Multi-node Ray needs the run directory on shared storage (NFS,
or a URI such as `s3://bucket/run` or `gs://bucket/run`).
"""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path

__all__ = ["RunStorage", "RunDirError"]


class RunDirError(ValueError):
    """A run directory is missing, unreadable or holds something else."""


def _is_uri(location: str) -> bool:
    return "://" in location and not location.startswith("file://")


class RunStorage:
    """Reads and atomically writes JSON files under a run directory.

    Args:
        location: A local path, `file://` URI, or a URI pyarrow understands.

    Example:
        >>> import tempfile
        >>> store = RunStorage(tempfile.mkdtemp())
        >>> store.write_json("trials/0.json", {"a": 1})
        >>> store.read_json("trials/0.json"), store.list("trials")
        ({'a': 1}, ['0.json'])
    """

    def __init__(self, location):
        location = os.fspath(location)
        if location.startswith("file://"):
            location = location[len("file://"):]
        self.location = location
        self._fs = None
        if _is_uri(location):
            import pyarrow.fs

            self._fs, self._root = pyarrow.fs.FileSystem.from_uri(location)
        else:
            self._root = str(Path(location).expanduser().resolve())

    @property
    def is_local(self) -> bool:
        """Whether the run directory is a local path."""
        return self._fs is None

    @property
    def uri(self) -> str:
        """The location as given (an absolute path when local)."""
        return self._root if self.is_local else self.location

    def path(self, rel: str = "") -> str:
        """The full path (local) or filesystem path (URI) of `rel`."""
        return os.path.join(self._root, rel) if rel else self._root

    def exists(self, rel: str = "") -> bool:
        """Whether `rel` exists."""
        if self.is_local:
            return os.path.exists(self.path(rel))
        import pyarrow.fs

        return self._fs.get_file_info(self.path(rel)).type != pyarrow.fs.FileType.NotFound

    def makedirs(self, rel: str = "") -> None:
        """Creates directory `rel` (and parents)."""
        if self.is_local:
            os.makedirs(self.path(rel), exist_ok=True)
        else:
            self._fs.create_dir(self.path(rel), recursive=True)

    def read_text(self, rel: str) -> str | None:
        """The text of `rel`, or None if it does not exist."""
        if not self.exists(rel):
            return None
        if self.is_local:
            with open(self.path(rel), encoding="utf-8") as f:
                return f.read()
        with self._fs.open_input_stream(self.path(rel)) as f:
            return f.read().decode("utf-8")

    def read_json(self, rel: str):
        """Parsed JSON of `rel`, None if missing; `RunDirError` naming it if corrupt."""
        text = self.read_text(rel)
        if text is None:
            return None
        try:
            return json.loads(text)
        except (ValueError, RecursionError) as err:
            raise RunDirError(f"{self.path(rel)}: not valid JSON ({err})") from None

    def write_json(self, rel: str, data) -> None:
        """Writes `data` as JSON to `rel` atomically."""
        text = json.dumps(data, indent=1, sort_keys=False, allow_nan=False)
        parent = os.path.dirname(rel)
        self.makedirs(parent)
        final = self.path(rel)
        tmp = os.path.join(os.path.dirname(final), f".{os.path.basename(final)}.{uuid.uuid4().hex}")
        if self.is_local:
            with open(tmp, "w", encoding="utf-8") as f:
                f.write(text)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, final)
        else:
            with self._fs.open_output_stream(tmp) as f:
                f.write(text.encode("utf-8"))
            self._fs.move(tmp, final)

    def list(self, rel: str) -> list[str]:
        """File names directly under directory `rel` (sorted; none if missing)."""
        if not self.exists(rel):
            return []
        if self.is_local:
            return sorted(n for n in os.listdir(self.path(rel)) if not n.startswith("."))
        import pyarrow.fs

        infos = self._fs.get_file_info(pyarrow.fs.FileSelector(self.path(rel)))
        return sorted(os.path.basename(i.path) for i in infos
                      if not os.path.basename(i.path).startswith("."))
