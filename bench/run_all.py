"""Every benchmark on this one tree, in passes, and the table of what they measured written into bench/README.md.

Each pass runs every script once, in turn, each as its own process (`--json` hands its figures back); the next
pass starts when the last script of the previous one is done, so two passes are two independent runs minutes
apart. The table shows every pass beside the others and how far apart they are: a figure whose passes differ
by more than 5 % is not one to publish. The table's head says the machine, the tree (commit, and whether the
working tree differed from it), the date and the load average before and after.

Exit code: 0 when every script met every target in every pass and the passes agree within 5 % on every
figure with a target; 1 when a target was missed or the passes disagree; 2 when a script could not measure.

Run: python bench/run_all.py [--passes 2] [--quick] [--only SCRIPT ...]
--quick runs each script with --quick (few rounds, one pass by default): it checks that everything works and
prints the table without writing it into the README.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from _common import BENCH, EXIT_BROKEN, EXIT_MET, EXIT_MISSED, load_average, machine, now_utc, tree

SCRIPTS = (
    "tool_tokens.py",
    "cold_start.py",
    "call_overhead.py",
    "inventory_scale.py",
    "pagination.py",
    "http_load.py",
    "http_throughput.py",
    "jobs.py",
)
README = BENCH / "README.md"
START = "<!-- run_all.py writes the table below this line; do not edit by hand -->"
END = "<!-- run_all.py writes the table above this line -->"
AGREEMENT = 0.05


@dataclass
class Row:
    script: str
    name: str
    target: str
    shown: list[str] = field(default_factory=list[str])
    values: list[float] = field(default_factory=list[float])
    met: list[bool | None] = field(default_factory=list[bool | None])

    @property
    def spread(self) -> float:
        """How far apart the passes are: (largest - smallest) / smallest, 0 when they are equal."""
        low, high = min(self.values), max(self.values)
        return 0.0 if high == low else (high - low) / abs(low) if low else float("inf")

    @property
    def agrees(self) -> bool:
        return len(self.values) < 2 or self.spread <= AGREEMENT

    @property
    def state(self) -> str:
        if not self.target:  # information: flagged, never failing the run
            return "" if self.agrees else "passes differ > 5 %"
        missed = sum(met is False for met in self.met)
        if missed:
            return f"MISSED in {missed} of {len(self.met)}"
        return "ok" if self.agrees else "passes disagree"


def run_script(script: str, quick: bool) -> tuple[int, list[dict[str, Any]]]:
    """Run one benchmark (its output goes straight to this terminal); answer its exit code and figures."""
    with tempfile.TemporaryDirectory() as scratch:
        figures_file = Path(scratch, "figures.json")
        command = [sys.executable, str(BENCH / script), "--json", str(figures_file), *(["--quick"] if quick else [])]
        print(f"\n=== {' '.join(command[1:])}", flush=True)
        code = subprocess.run(command, cwd=BENCH, check=False).returncode
        return code, json.loads(figures_file.read_text()) if figures_file.exists() else []


def table(rows: list[Row], exit_codes: dict[str, list[int]], passes: int, head: str) -> str:
    pass_columns = " | ".join(f"pass {number}" for number in range(1, passes + 1))
    lines = [
        head,
        "",
        f"| script | figure | {pass_columns} | spread | target | |",
        "|---|---|" + "---|" * passes + "---|---|---|",
    ]
    for row in rows:
        spread = "" if len(row.values) < 2 else f"{row.spread * 100:.1f} %"
        shown = " | ".join(row.shown + [""] * (passes - len(row.shown)))
        lines.append(f"| `{row.script}` | {row.name} | {shown} | {spread} | {row.target} | {row.state} |")
    codes = ", ".join(f"`{script}` {' '.join(str(code) for code in codes)}" for script, codes in exit_codes.items())
    lines += ["", f"Exit codes, pass by pass: {codes}."]
    return "\n".join(lines)


def write_readme(text: str) -> None:
    readme = README.read_text()
    before, found, rest = readme.partition(START)
    _, found_end, after = rest.partition(END)
    if not (found and found_end):
        raise SystemExit(f"{README} has lost its markers; put back:\n{START}\n{END}")
    README.write_text(f"{before}{START}\n{text}\n{END}{after}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="each script with --quick; the README is not written")
    parser.add_argument("--passes", type=int, help="runs of the whole set (default 2; with --quick 1)")
    parser.add_argument("--only", nargs="+", choices=SCRIPTS, help="these scripts only")
    parsed = parser.parse_args()
    passes = parsed.passes or (1 if parsed.quick else 2)
    scripts = parsed.only or SCRIPTS
    started, load_before, measured_tree = now_utc(), load_average(), tree()
    print(f"machine: {machine()}\ntree: {measured_tree}\ndate: {started}\nload average: {load_before}", flush=True)
    rows: dict[tuple[str, str], Row] = {}
    exit_codes: dict[str, list[int]] = {script: [] for script in scripts}
    for _ in range(passes):
        for script in scripts:
            code, figures = run_script(script, parsed.quick)
            exit_codes[script].append(code)
            for figure in figures:
                row = rows.setdefault((script, figure["name"]), Row(script, figure["name"], figure["target"]))
                row.shown.append(figure["shown"])
                row.values.append(float(figure["value"]))
                row.met.append(figure["met"])
    broken = any(code not in (EXIT_MET, EXIT_MISSED) for codes in exit_codes.values() for code in codes)
    missed = any(code == EXIT_MISSED for codes in exit_codes.values() for code in codes)
    disagree = [row.name for row in rows.values() if row.target and not row.agrees]
    if broken:
        verdict = "a benchmark could not measure (exit 2): see its output"
    elif missed:
        verdict = "a target was MISSED"
    elif disagree:
        verdict = (
            f"every target met, but the passes differ by more than {AGREEMENT * 100:.0f} % on: {', '.join(disagree)}"
        )
    elif passes == 1:
        verdict = "every target met (one pass: whether a second run agrees is not checked)"
    else:
        verdict = f"every target met in every pass; the passes agree within {AGREEMENT * 100:.0f} % on every target"
    head = (
        f"Written by `python bench/run_all.py{' --quick' if parsed.quick else ''}`, "
        f"{passes} pass{'es' if passes > 1 else ''}, "
        f"{started} to {now_utc()}.\n"
        f"Machine: {machine()}. Tree: {measured_tree}.\n"
        f"Load average before: {load_before}; after: {load_average()}.\n"
        f"Verdict: {verdict}."
    )
    text = table(list(rows.values()), exit_codes, passes, head)
    print(f"\n{text}")
    if not parsed.quick:
        write_readme(text)
        print(f"\nwritten into {README}")
    if broken:
        return EXIT_BROKEN
    return EXIT_MISSED if missed or disagree else EXIT_MET


if __name__ == "__main__":
    raise SystemExit(main())
