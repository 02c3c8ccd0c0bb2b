"""The gallery-style corpus (tests/fixtures/adf_gallery_style) for tests: its folder, a copy to change, one edit."""

from __future__ import annotations

import shutil
from pathlib import Path

GALLERY = Path(__file__).resolve().parent / "fixtures" / "adf_gallery_style"


def copy_gallery(tmp_path: Path) -> Path:
    """A copy of the corpus under `tmp_path`, for a test that changes a file."""
    factory = tmp_path / "factory"
    shutil.copytree(GALLERY, factory)
    return factory


def edit_gallery(folder: Path, relative: str, old: str, new: str) -> None:
    """Replace `old` (which must be there) by `new` in `folder/relative`."""
    path = folder / relative
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{relative} no longer holds {old!r}: update the test"
    path.write_text(text.replace(old, new), encoding="utf-8")
