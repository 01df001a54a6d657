"""Every command the README, docs/ and CONTRIBUTING.md show works when pasted on a fresh clone after the set-up
command: it names a real entry point or file, real flags (`mcp-anyreach` against its own argparse parser, a
script against its `--help`), a real extra and real environment variables. Their links reach real files and
headings, and they quote no figure of the benchmark table, which is the one place figures live.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import re
import shlex
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest

from mcp_anyreach.cli.main import build_parser
from tests.test_packaging import settings_env_names

ROOT = Path(__file__).resolve().parent.parent
PAGES = sorted(
    [
        ROOT / "README.md",
        ROOT / "CONTRIBUTING.md",
        ROOT / "bench" / "README.md",
        ROOT / "examples" / "gitops" / "README.md",
        *(ROOT / "docs").glob("*.md"),
    ]
)
SHELL_LANGUAGES = {"bash", "sh", "shell", "console"}
FENCE = re.compile(r"^(?P<indent> *)```(?P<language>[^\n`]*)\n(?P<body>.*?)^(?P=indent)```", re.DOTALL | re.MULTILINE)
SEPARATORS = {"&&", "||", "|", ";", "&"}
# Programs the clone does not provide, taken as they are; anything else needs a rule below.
OUTSIDE_PROGRAMS = {"apt-get", "curl", "echo", "kill", "npx", "pipx", "rm", "sh", "unset"}
PLACEHOLDER_PREFIX = "/absolute/path/to/"


def page_id(page: Path) -> str:
    return str(page.relative_to(ROOT))


def code_blocks(page: Path) -> Iterator[tuple[str, str]]:
    """(language, text) of every fenced block, dedented."""
    for match in FENCE.finditer(page.read_text()):
        indent = len(match["indent"])
        body = "\n".join(line[indent:] for line in match["body"].splitlines())
        yield match["language"].strip(), body


def command_lines(language: str, body: str) -> Iterator[str]:
    """The commands of a shell block: continuation lines joined; in a console block only the `$ ` lines."""
    text = body.replace("\\\n", " ")
    for line in text.splitlines():
        if language == "console":
            if line.startswith("$ "):
                yield line[2:]
        elif line.strip():
            yield line


def simple_commands(line: str) -> Iterator[list[str]]:
    """The words of each command of a line, split at `&&`, `|`, `;` and `&`, comments dropped."""
    lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    words: list[str] = []
    for token in lexer:
        if token in SEPARATORS:
            if words:
                yield words
            words = []
        else:
            words.append(token)
    if words:
        yield words


def variable_problems(name: str) -> list[str]:
    if name.startswith(("ANYREACH_", "MCP_ANYREACH_")):
        if name in settings_env_names() or name.startswith("ANYREACH_SIP_"):
            return []
        return [f"{name} is not a variable the server reads (mcp_anyreach/settings.py)"]
    if name in variables_the_repository_reads():
        return []
    return [f"{name} is read by nothing in scripts/, tests/ or bench/"]


@cache
def variables_the_repository_reads() -> frozenset[str]:
    sources = [*(ROOT / "scripts").glob("*.sh"), *(ROOT / "tests").rglob("*.py"), *(ROOT / "bench").glob("*.py")]
    text = "\n".join(path.read_text() for path in sources if path.resolve() != Path(__file__).resolve())
    return frozenset(re.findall(r"\b[A-Z][A-Z0-9_]{2,}\b", text))


def subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def option_problems(parser: argparse.ArgumentParser, args: list[str], where: str) -> list[str]:
    options = {option: action for action in parser._actions for option in action.option_strings}
    problems: list[str] = []
    for index, word in enumerate(args):
        if not word.startswith("-") or word == "-":
            continue
        flag, equals, value = word.partition("=")
        action = options.get(flag)
        if action is None:
            problems.append(f"{where} has no flag {flag}")
            continue
        if action.choices is not None and action.nargs != 0:
            given = value if equals else (args[index + 1] if index + 1 < len(args) else None)
            if given is not None and given not in action.choices:
                problems.append(f"{where} {flag} takes {sorted(action.choices)}, not {given!r}")
    return problems


def mcp_anyreach_problems(args: list[str]) -> list[str]:
    """The command line as `mcp-anyreach` reads it: `serve` unless a command or --help/--version comes first."""
    parser = build_parser()
    commands = subcommands(parser)
    if not args or (args[0] not in commands and args[0] not in ("-h", "--help", "--version")):
        args = ["serve", *args]
    if args[0] in commands:
        problems = option_problems(commands[args[0]], args[1:], f"mcp-anyreach {args[0]}")
    else:
        problems = option_problems(parser, args, "mcp-anyreach")
    if problems:
        return problems
    with contextlib.redirect_stderr(io.StringIO()) as said, contextlib.redirect_stdout(io.StringIO()):
        try:
            parser.parse_args(args)
        except SystemExit as exc:
            if exc.code not in (0, None):
                return [f"mcp-anyreach {' '.join(args)}: {said.getvalue().strip()}"]
        except Exception as exc:  # a parser that reports usage errors by its own exception
            return [f"mcp-anyreach {' '.join(args)}: {exc}"]
    return []


@cache
def script_help(script: str) -> str:
    completed = subprocess.run(
        [sys.executable, script, "--help"], cwd=ROOT, capture_output=True, text=True, timeout=120, check=False
    )
    return completed.stdout if completed.returncode == 0 else ""


def python_problems(args: list[str]) -> list[str]:
    if args[:2] == ["-m", "pytest"]:
        return [
            f"pytest: {word} does not exist"
            for word in args[2:]
            if word.startswith("tests") and not (ROOT / word.split("::")[0]).exists()
        ]
    if args[:1] == ["-m"] or args[:1] == ["-c"]:
        return [] if args[:2] != ["-m", "mcp_anyreach"] else mcp_anyreach_problems(args[2:])
    script, *rest = args
    if not (ROOT / script).is_file():
        return [f"{script} does not exist"]
    known = script_help(script)
    return [
        f"{script} has no flag {word.split('=')[0]}"
        for word in rest
        if word.startswith("--") and not re.search(rf"(?<![\w-]){re.escape(word.split('=')[0])}\b", known)
    ]


def pip_problems(args: list[str]) -> list[str]:
    extras = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"])
    targets = [word for word in args[1:] if not word.startswith("-")]
    if args[:1] != ["install"] or not targets:
        return [f"pip {' '.join(args)}: only `pip install` of this clone is shown"]
    problems: list[str] = []
    for target in targets:
        match = re.fullmatch(r"\.(?:\[(?P<extras>[\w,-]+)\])?", target)
        if match is None:
            problems.append(f"pip install {target}: the package is not on PyPI; install the clone, `.` or '.[extra]'")
        elif match["extras"]:
            problems += [
                f"pip install: no extra {extra!r}" for extra in match["extras"].split(",") if extra not in extras
            ]
    return problems


def venv_tool_problems(tool: str, args: list[str]) -> list[str]:
    if tool == "mcp-anyreach":
        return mcp_anyreach_problems(args)
    if tool == "python":
        return python_problems(args)
    if tool == "pip":
        return pip_problems(args)
    if not (Path(sys.executable).parent / tool).exists():
        return [f".venv/bin/{tool} is not installed by the set-up command"]
    return []


def node_problems(program: str, args: list[str]) -> list[str]:
    if program == "npm":
        if args[:1] != ["ci"] or "--prefix" not in args:
            return [f"npm {' '.join(args)}: only `npm ci --prefix DIR` is shown"]
        prefix = args[args.index("--prefix") + 1]
        return [] if (ROOT / prefix / "package-lock.json").is_file() else [f"npm ci --prefix {prefix}: no lock file"]
    if program == "node":
        return [] if (ROOT / args[0]).is_file() else [f"node {args[0]}: no such file"]
    folder, _, name = program.partition("/node_modules/.bin/")
    manifest = ROOT / folder / "package.json"
    dependencies = json.loads(manifest.read_text()).get("dependencies", {}) if manifest.is_file() else {}
    if any(package.split("/")[-1] == name for package in dependencies):
        return []
    return [f"{program}: {folder}/package.json installs no {name}"]


def command_problems(words: list[str]) -> list[str]:
    """What is wrong with one command, as it would run from the root of a fresh clone after the set-up."""
    problems: list[str] = []
    if words[0] == "export":
        words = words[1:]
    while words and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*=.*", words[0]):
        problems += variable_problems(words[0].split("=", 1)[0])
        words = words[1:]
    if not words:
        return problems
    program, args = words[0], words[1:]
    program = program.removeprefix(PLACEHOLDER_PREFIX)
    if program.startswith(".venv/bin/"):
        return problems + venv_tool_problems(program.removeprefix(".venv/bin/"), args)
    if program == "mcp-anyreach":
        return [*problems, "mcp-anyreach is not on PATH after the set-up command: write .venv/bin/mcp-anyreach"]
    if program in ("python", "pip"):
        return [*problems, f"{program} is not the clone's: write .venv/bin/{program}"]
    if program == "python3":
        return problems + ([] if args[:3] == ["-m", "venv", ".venv"] or args[:1] == ["-c"] else [f"python3 {args}"])
    if program == "bash":
        return problems + script_problems(args)
    if program == ".ci/run":
        return problems + ([] if os.access(ROOT / ".ci" / "run", os.X_OK) else [".ci/run is not executable"])
    if program in ("npm", "node") or "/node_modules/.bin/" in program:
        return problems + node_problems(program, args)
    if program == "uvx":
        after = args[args.index("--from") + 2 :] if "--from" in args else args
        return problems + (mcp_anyreach_problems(after[1:]) if after[:1] == ["mcp-anyreach"] else [f"uvx {args}"])
    if program == "claude":
        return problems + (command_problems(args[args.index("--") + 1 :]) if "--" in args else [])
    if program in OUTSIDE_PROGRAMS:
        return problems
    return [*problems, f"{program}: not a program of the clone nor one the documentation may name"]


def script_problems(args: list[str]) -> list[str]:
    script, *names = args
    if not (ROOT / script).is_file():
        return [f"bash {script}: no such file"]
    if script != "scripts/mutation.sh":
        return []
    targets = (ROOT / "scripts" / "mutation_targets.txt").read_text()
    modules = [line.split()[0].removesuffix(".py") for line in targets.splitlines() if line and line[0] != "#"]
    return [
        f"scripts/mutation.sh: no module in mutation_targets.txt is named {name}"
        for name in names
        if not any(m == name or m.endswith(f"/{name}") or f"/{name}/" in f"/{m}" for m in modules)
    ]


def page_problems(page: Path) -> list[str]:
    problems: list[str] = []
    for language, body in code_blocks(page):
        if language not in SHELL_LANGUAGES:
            continue
        for line in command_lines(language, body):
            for words in simple_commands(line):
                problems += [f"{page_id(page)}: `{line.strip()}`: {problem}" for problem in command_problems(words)]
    return problems


def test_the_documentation_pages_are_found() -> None:
    assert {"README.md", "CONTRIBUTING.md", "docs/reference.md", "docs/safety.md"} <= {page_id(p) for p in PAGES}


@pytest.mark.parametrize("page", PAGES, ids=page_id)
def test_every_shell_command_names_a_real_entry_point_flag_and_variable(page: Path) -> None:
    assert page_problems(page) == []


@pytest.mark.parametrize("page", PAGES, ids=page_id)
def test_every_code_block_says_its_language_so_no_command_hides_in_an_untagged_one(page: Path) -> None:
    untagged = [body.splitlines()[0] for language, body in code_blocks(page) if not language]
    assert untagged == []


@pytest.mark.parametrize(
    ("command", "problem"),
    [
        (".venv/bin/mcp-anyreach plan telephony.yaml --made-up", "mcp-anyreach plan has no flag --made-up"),
        (".venv/bin/mcp-anyreach --read-onyl", "mcp-anyreach serve has no flag --read-onyl"),
        (".venv/bin/mcp-anyreach --transport carrier-pigeon", "--transport takes"),
        (".venv/bin/mcp-anyreach plan", "the following arguments are required: file"),
        ("mcp-anyreach doctor", "not on PATH"),
        ("pip install 'mcp-anyreach[team]'", "not the clone's"),
        (".venv/bin/pip install 'mcp-anyreach[team]'", "not on PyPI"),
        (".venv/bin/pip install -e '.[teams]'", "no extra 'teams'"),
        (".venv/bin/python bench/run_all.py --fast", "bench/run_all.py has no flag --fast"),
        (".venv/bin/python bench/nothere.py", "bench/nothere.py does not exist"),
        ("bash scripts/mutation.sh confirmation", "no module in mutation_targets.txt is named confirmation"),
        ("MCP_ANYREACH_READONLY=1 .venv/bin/mcp-anyreach", "MCP_ANYREACH_READONLY is not a variable"),
        ("export ANYREACH_TOKN=ak_x", "ANYREACH_TOKN is not a variable"),
        ("frobnicate --all", "frobnicate: not a program"),
    ],
)
def test_a_made_up_command_flag_or_variable_is_caught(command: str, problem: str) -> None:
    found = [found for words in simple_commands(command) for found in command_problems(words)]

    assert any(problem in found_problem for found_problem in found), found


def test_the_commands_as_written_in_the_documentation_pass() -> None:
    passing = [
        "python3 -m venv .venv && .venv/bin/pip install -e '.[dev]' && .venv/bin/mcp-anyreach demo",
        "ANYREACH_SIP_X=y .venv/bin/mcp-anyreach apply f.yaml --db /tmp/x.db --auto-approve  # a comment",
        "claude mcp add a --env ANYREACH_TOKEN=ak_... -- /absolute/path/to/.venv/bin/mcp-anyreach --read-only",
        '.venv/bin/mcp-anyreach sandbox --behaviour "pagination=link,put=replace"',
        "uvx --from . mcp-anyreach --read-only",
    ]

    assert [found for line in passing for words in simple_commands(line) for found in command_problems(words)] == []


def heading_anchors(page: Path) -> set[str]:
    """GitHub's anchors: the heading lowercased, punctuation but `-` and `_` dropped, spaces as `-`."""
    headings = re.findall(r"^#+ (.+)$", re.sub(FENCE, "", page.read_text()), flags=re.MULTILINE)
    return {re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-") for heading in headings}


@pytest.mark.parametrize("page", PAGES, ids=page_id)
def test_every_relative_link_reaches_a_file_and_heading(page: Path) -> None:
    broken: list[str] = []
    for target in re.findall(r"\]\(([^)\s]+)\)", re.sub(FENCE, "", page.read_text())):
        if re.match(r"[a-z]+:", target):
            continue
        path, _, anchor = target.partition("#")
        linked = (page.parent / path).resolve() if path else page
        if not linked.exists() or (anchor and linked.suffix == ".md" and anchor not in heading_anchors(linked)):
            broken.append(target)
    assert broken == []


def benchmark_figures() -> set[str]:
    """The measured figures of bench/README.md's generated table (thousands or decimals: never a target)."""
    text = (ROOT / "bench" / "README.md").read_text()
    table = text.split("<!-- run_all.py writes the table below this line")[1]
    rows = [line.split("|") for line in table.splitlines() if line.startswith("| `")]
    measured = " ".join(cell for row in rows for cell in row[3:-3])
    return {figure for figure in re.findall(r"\d{1,3}(?:,\d{3})+|\d+\.\d+x?", measured) if len(figure) >= 4}


@pytest.mark.parametrize("page", [p for p in PAGES if p != ROOT / "bench" / "README.md"], ids=page_id)
def test_no_page_types_a_figure_of_the_benchmark_table_again(page: Path) -> None:
    figures = benchmark_figures()
    assert figures
    typed = sorted(
        figure for figure in figures if re.search(rf"(?<![\d.,]){re.escape(figure)}(?![\d,]|\.\d)", page.read_text())
    )
    assert typed == []
