"""run_local's twin start-up: OS errors end in one line naming the path and the fix (issue 12, item 5)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from offline.run_local.twin_process import TwinStartError, start_twin


def test_when_the_twin_log_cannot_be_written_then_one_line_names_the_path_and_the_fix(tmp_path: Path) -> None:
    not_a_folder = tmp_path / "logs"
    not_a_folder.write_text("a file where the logs folder should be")
    log_file = not_a_folder / "spotify_twin.log"

    with pytest.raises(TwinStartError) as raised:
        start_twin(
            seed=1, scale=0.1, faults="", client_id="cid", client_secret="s", refresh_tokens=["r"],
            truth_out=tmp_path / "truth.json", served_out=tmp_path / "served.json", log_file=log_file,
            access_mode="development", as_of=date(2026, 11, 21),
        )

    message = str(raised.value)
    assert "\n" not in message and str(log_file) in message and "permissions" in message
