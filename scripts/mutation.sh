#!/usr/bin/env bash
# Mutation run over the confirmation gate: every check removed or altered must make a test fail.
# Outside CI's time budget (about an hour on two cores): run it by hand after changing the gate.
#   bash scripts/mutation.sh            # then read the summary it prints
set -euo pipefail
cd "$(dirname "$0")/.."
.venv/bin/python -m pip install --quiet "mutmut==3.8.1"
rm -rf mutants
.venv/bin/mutmut run --max-children 2 || true
.venv/bin/mutmut results --all true > mutants/results.txt || true
echo "survivors (each must be a check no test covers, or a mutation that changes nothing):"
grep -E "survived|no tests" mutants/results.txt || echo "none"
