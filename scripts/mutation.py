"""Mutate chosen modules, each against its own tests only, and print what survived.

mutmut 3 reads its configuration from the pyproject.toml of the directory it runs in and has no flag for a
module or a test selection, so each module runs in its own copy of the tree (mutants/<module>/) whose
pyproject.toml names that module and its tests (scripts/mutation_targets.txt).

Run: bash scripts/mutation.sh [NAME ...]   e.g. `confirm gate`, `tools/numbers`, `shared_state`, or a path;
none: every module in the list (long).
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGETS = ROOT / "scripts" / "mutation_targets.txt"
SCRATCH = ROOT / "mutants"
MUTMUT = Path(sys.executable).with_name("mutmut")
SHOWN = ("killed", "survived", "no tests", "timeout")
# `mutmut show` for many mutants in one process (one `mutmut show` each takes seconds on a busy machine).
SHOW_DIFFS = """
import sys
from mutmut.mutation.diff_apply import find_mutant, get_diff_for_mutant
for name in sys.argv[1:]:
    print(f"### {name}")
    print(get_diff_for_mutant(name, path=find_mutant(name).path))
"""


@dataclass(frozen=True)
class Target:
    module: str  # path from the repository's root
    tests: tuple[str, ...]

    @property
    def slug(self) -> str:
        return self.module.removeprefix("mcp_anyreach/").removesuffix(".py").replace("/", ".")

    def is_named_by(self, name: str) -> bool:
        """`confirm`, `tools/numbers`, `server/tools/numbers.py`, a folder such as `shared_state`, or the path."""
        wanted = name.strip("/").removesuffix(".py")
        stem = self.module.removesuffix(".py")
        return stem == wanted or stem.endswith(f"/{wanted}") or f"/{wanted}/" in f"/{stem}"


def read_targets(path: Path = TARGETS) -> list[Target]:
    targets: list[Target] = []
    for line in path.read_text().splitlines():
        fields = line.split("#", 1)[0].split()
        if fields:
            targets.append(Target(fields[0], tuple(fields[1:])))
    return targets


def choose(targets: list[Target], names: list[str]) -> list[Target]:
    if not names:
        return targets
    unknown = [name for name in names if not any(target.is_named_by(name) for target in targets)]
    if unknown:
        known = ", ".join(target.slug for target in targets)
        raise SystemExit(f"no module in {TARGETS.name} is named {', '.join(unknown)}; known: {known}")
    return [target for target in targets if any(target.is_named_by(name) for name in names)]


def mutmut_section(target: Target, copied: list[str]) -> str:
    settings = {
        "source_paths": [target.module],
        "pytest_add_cli_args_test_selection": list(target.tests),
        "also_copy": copied,
        "mutate_only_covered_lines": True,
    }
    return "[tool.mutmut]\n" + "".join(f"{key} = {json.dumps(value)}\n" for key, value in settings.items())


def prepare(target: Target) -> Path:
    """A fresh copy of the tree (what git would commit or see) whose mutmut configuration is `target`'s."""
    scratch = SCRATCH / target.slug
    shutil.rmtree(scratch, ignore_errors=True)
    files = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    for name in files:
        source = ROOT / name
        if source.is_file():
            (scratch / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, scratch / name)
    top_level = sorted({name.split("/", 1)[0] for name in files if (scratch / name).exists()})
    pyproject = (scratch / "pyproject.toml").read_text()
    pyproject = re.sub(r"(?ms)^\[tool\.mutmut\]\n.*?(?=^\[|\Z)", "", pyproject)
    (scratch / "pyproject.toml").write_text(f"{pyproject.rstrip()}\n\n{mutmut_section(target, top_level)}")
    return scratch


def results(scratch: Path) -> dict[str, str]:
    listed = subprocess.run(
        [str(MUTMUT), "results", "--all", "true"], cwd=scratch, capture_output=True, text=True, check=False
    ).stdout
    found = (line.strip().rpartition(": ") for line in listed.splitlines() if ": " in line)
    return {name: status for name, _, status in found}


def diffs(scratch: Path, mutants: list[str]) -> dict[str, list[str]]:
    """Each mutant's diff of its function, as `mutmut show` prints it."""
    shown = subprocess.run(
        [sys.executable, "-c", SHOW_DIFFS, *mutants], cwd=scratch, capture_output=True, text=True, check=False
    ).stdout
    found: dict[str, list[str]] = {}
    for part in shown.split("### ")[1:]:
        name, _, diff = part.partition("\n")
        found[name] = diff.splitlines()
    return found


def where(module: str, mutant: str, diff: list[str]) -> str:
    """`file:line  old -> new` for one mutant, from the diff of its function."""
    removed = [line[1:].strip() for line in diff if line.startswith("-") and not line.startswith("---")]
    added = [line[1:].strip() for line in diff if line.startswith("+") and not line.startswith("+++")]
    function = re.sub(r"__mutmut_\d+$", "", mutant.rpartition(".")[2]).split("ǁ")[-1].removeprefix("x_")
    lines = (ROOT / module).read_text().splitlines()
    start = next((n for n, line in enumerate(lines) if re.match(rf"\s*(async )?def {re.escape(function)}\(", line)), 0)
    line = next((n for n in range(start, len(lines)) if removed and lines[n].strip() == removed[0]), start)
    return f"{module}:{line + 1}  {' / '.join(removed) or '(nothing)'}  ->  {' / '.join(added) or '(nothing)'}"


def run(target: Target, max_children: int) -> Counter[str]:
    started = time.monotonic()
    scratch = prepare(target)
    print(f"\n=== {target.module} against {' '.join(target.tests)}", flush=True)
    log = scratch / "mutmut-run.log"
    with log.open("w") as sink:
        subprocess.run(
            [str(MUTMUT), "run", "--max-children", str(max_children)],
            cwd=scratch,
            stdout=sink,
            stderr=subprocess.STDOUT,
            check=False,
        )
    statuses = results(scratch)
    counts = Counter(statuses.values())
    elapsed = time.monotonic() - started
    shown = ", ".join(f"{status} {counts[status]}" for status in SHOWN)
    others = ", ".join(f"{status} {count}" for status, count in counts.items() if status not in SHOWN)
    print(f"{target.slug}: {shown}{f', {others}' if others else ''}; {elapsed:.0f} s wall")
    if not statuses or counts["not checked"]:
        print(f"  mutmut stopped before testing every mutant: read {log.relative_to(ROOT)}")
    listed = ("killed", "caught by type check", "not checked")
    alive = sorted(mutant for mutant, status in statuses.items() if status not in listed)
    shown = diffs(scratch, alive)
    for mutant in alive:
        print(f"  {statuses[mutant]}: {where(target.module, mutant, shown.get(mutant, []))}  [{mutant}]")
    return counts


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("names", nargs="*", help="modules to mutate (default: every one in the list)")
    parser.add_argument("--max-children", type=int, default=2, help="mutants tested at once (default 2)")
    parsed = parser.parse_args()
    started = time.monotonic()
    total: Counter[str] = Counter()
    for target in choose(read_targets(), parsed.names):
        total += run(target, parsed.max_children)
    shown = ", ".join(f"{status} {total[status]}" for status in SHOWN)
    print(f"\nall: {shown}; {time.monotonic() - started:.0f} s wall")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
