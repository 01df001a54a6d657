"""Every benchmark still runs: each script measures with --quick and hands its figures to run_all.py.

Times are not checked (the machine is shared and --quick figures are rough): a script may miss a target
(exit 1) but must measure (exit 2 is "could not measure", anything else a crash).
"""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench"
HELPERS = {"_common.py", "bare_server.py", "run_all.py"}
SCRIPTS = sorted(path.name for path in BENCH.glob("*.py") if path.name not in HELPERS)


def test_run_all_runs_every_benchmark_script(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "path", [str(BENCH), *sys.path])
    run_all = importlib.import_module("run_all")
    assert sorted(run_all.SCRIPTS) == SCRIPTS


@pytest.mark.parametrize("script", SCRIPTS)
def test_every_benchmark_runs_with_quick_and_reports_its_figures(script: str, tmp_path: Path) -> None:
    figures_file = tmp_path / "figures.json"
    done = subprocess.run(
        [sys.executable, str(BENCH / script), "--quick", "--json", str(figures_file)],
        cwd=BENCH,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    broke = f"{script} could not measure (exit {done.returncode}):\n{done.stderr[-3000:]}"
    assert done.returncode in (0, 1), broke
    assert figures_file.exists(), broke
    figures = json.loads(figures_file.read_text())
    assert figures, f"{script} reported no figure"
    assert all(figure["name"] and figure["shown"] for figure in figures)
