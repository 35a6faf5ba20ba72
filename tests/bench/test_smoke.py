"""`make bench` keeps working: its smoke mode runs every row end to end on tiny sizes.

The figures of a smoke run mean nothing (a second per row, a handful of rows of data),
so targets are not asserted here: only that each row got a number and the JSON was written.
"""

import json
import math
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# The rows issue 11 asks for; any row added later must produce a number too.
REQUIRED_ROWS = {
    "me_vs_fastapi",
    "me_vs_starlette",
    "verifier",
    "gateway",
    "card",
    "my_chats",
    "chat_messages",
    "search_scale_1",
    "search_scale_2",
    "search_scale_3",
    "search_hello_1",
    "chat_vs_relay",
    "chat_rate",
    "socket_kib",
    "socket_kept_kib",
    "match_p99",
    "outbox",
}


def test_the_smoke_mode_measures_every_row(tmp_path: Path) -> None:
    output = tmp_path / "results.json"
    run = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--smoke", "--output", str(output)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, run.stdout[-5000:] + run.stderr[-5000:]
    results = json.loads(output.read_text())
    rows = {row["key"]: row for row in results["rows"]}
    assert REQUIRED_ROWS <= set(rows), sorted(REQUIRED_ROWS - set(rows))
    for key, row in rows.items():
        assert len(row["rounds"]) == 1, (key, row)
        assert row["median"] is not None and math.isfinite(row["median"]), (key, row)
        assert row["title"] in run.stdout, f"{row['title']!r} missing from the printed table"
    assert results["meta"]["sizes"]["rounds"] == 1
