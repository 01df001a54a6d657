"""scripts/mutation.sh's list: every module it mutates and every test it runs against it exists."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def test_every_mutation_target_and_its_tests_exist(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "path", [str(ROOT / "scripts"), *sys.path])
    mutation = importlib.import_module("mutation")
    targets = mutation.read_targets()
    assert targets
    for target in targets:
        assert (ROOT / target.module).is_file(), f"{target.module} is not a module"
        assert target.tests, f"{target.module} has no tests"
        missing = [test for test in target.tests if not (ROOT / test).exists()]
        assert not missing, f"{target.module}'s tests {missing} do not exist"


def test_a_mutation_run_takes_a_module_by_name_path_or_folder(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "path", [str(ROOT / "scripts"), *sys.path])
    mutation = importlib.import_module("mutation")
    targets = mutation.read_targets()

    def chosen(*names: str) -> list[str]:
        return [target.module for target in mutation.choose(targets, list(names))]

    assert chosen("tokens") == ["mcp_anyreach/server/gate/tokens.py"]
    assert len(chosen("gate")) == 3
    assert chosen("tools/numbers") == chosen("mcp_anyreach/server/tools/numbers.py")
    assert chosen("tools/numbers") == ["mcp_anyreach/server/tools/numbers.py"]
    assert len(chosen("shared_state")) == 4
    assert len(chosen("changes/actions")) == 5
    with pytest.raises(SystemExit, match=r"no module in mutation_targets\.txt is named nothere"):
        chosen("nothere")
