#!/usr/bin/env bash
# Mutation run: every check removed or altered must make a test fail. Each module is mutated against its own
# tests (scripts/mutation_targets.txt), so a few modules take minutes; all of them take much longer, which is
# why CI does not run it. Run it by hand after changing a check:
#   bash scripts/mutation.sh confirm gate     # names, paths or folders (shared_state); none: every module
# Per module it prints killed / survived / no tests / timeout, each survivor (file:line, the mutation) and the
# wall time; each module's copy of the tree, with mutmut's own log, stays in mutants/<module>/.
set -euo pipefail
cd "$(dirname "$0")/.."
# Pinned: scripts/mutation.py reads mutmut's results and diffs through its 3.8.1 interface.
if ! .venv/bin/python -c 'import importlib.metadata as m, sys; sys.exit(m.version("mutmut") != "3.8.1")' 2>/dev/null; then
    .venv/bin/python -m pip install --quiet "mutmut==3.8.1"
fi
exec .venv/bin/python scripts/mutation.py "$@"
