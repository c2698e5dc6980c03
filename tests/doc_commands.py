"""The shell commands of README.md and docs/, and how each one is checked without running it.

``extract(page)`` reads the fenced ``bash``/``sh``/``console`` blocks of a Markdown page and
returns one :class:`Command` per command (continuation lines joined, comments dropped).
A ``console`` block's ``$`` lines are commands; the lines after one are its output, and an
output line that is an error (``evosweep: error: ...``, Hydra's ``Could not find ...``,
a sweep's ``Trial N FAIL: ConfigError: ...``) documents that the command, or that cell of
its sweep, fails with that message.

``check(command)`` then does what the command would do up to the point where the model
loads: ``python -m evosweep`` composes the config (every cell of a ``-m`` sweep, one value
changed at a time) and builds the settings; ``make X`` runs ``make -n X`` and checks the
evosweep commands it would run; ``python -m evosweep.bench`` parses its arguments,
``python -m evosweep.report NAME`` needs an experiment NAME, a script needs its file.
"""

from __future__ import annotations

import functools
import re
import shlex
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CONF = REPO / "conf"
SHELL_LANGUAGES = {"bash", "sh", "shell", "console"}
PYTHONS = {".venv/bin/python", "python", "python3", "$(BIN)/python"}

#: programs that need something outside this repository; their commands are skipped with the reason
EXTERNAL_PROGRAMS = {
    "createdb": "needs a PostgreSQL server (dbhost)",
    ".venv/bin/pip": "installs packages from an index",
    ".venv/bin/optuna": "reads or changes the user's Optuna studies",
    "mlflow": "starts a long-running MLflow server",
    ".venv/bin/mlflow": "starts a long-running MLflow server",
    "ray": "starts a Ray cluster",
    "pngquant": "an image tool outside the project",
    "ssh": "needs another machine",
}
#: scripts that need something outside this repository (a running server, a browser)
EXTERNAL_SCRIPTS = {
    "docs/tools/mlflow_screenshot.py": "needs a running MLflow server and a browser",
}
#: evosweep overrides whose settings load something the user has: composed, not built
EXTERNAL_OVERRIDES = {
    "reward.model=/models/my-rm": "loads the user's own reward model (/models/my-rm)",
}

#: overrides that need the reader's own files; the test named writes those files and checks the command
READER_FILES = {
    "hydra.searchpath=[file://my_conf]": "needs the reader's my_conf/ and my_rewards.py "
                                         "(tests/test_guide_own_reward.py writes and runs them)",
}

_FENCE = re.compile(r"^(?P<indent> *)```(?P<lang>[\w-]*)[^\n]*\n(?P<body>.*?)^(?P=indent)```",
                    re.M | re.S)
_ERROR_LINE = re.compile(r"(evosweep: error: .*|In '\w+': Could not find .*|ConfigError: .*)$")


@dataclass(frozen=True)
class Command:
    """One documented command: where it is, its text, the failures its output documents."""

    page: str
    line: int
    text: str
    expected_errors: tuple[str, ...] = ()

    @property
    def id(self) -> str:
        return f"{self.page}:{self.line}"


@dataclass
class Outcome:
    """What checking a command found: how many configurations it checked and what failed."""

    checked: int = 0
    errors: list[str] = field(default_factory=list)
    skipped: str | None = None  # the reason, for commands that need something external


def pages() -> list[Path]:
    """README.md and every page of the docs site (docs/tools/ holds scripts, not pages: mkdocs.yml)."""
    docs = REPO / "docs"
    return [REPO / "README.md", *sorted(page for page in docs.rglob("*.md")
                                        if not page.is_relative_to(docs / "tools"))]


def extract(page: Path) -> list[Command]:
    """The commands of ``page``'s shell blocks, in order."""
    text = page.read_text()
    name = str(page.relative_to(REPO)) if page.is_relative_to(REPO) else page.name
    commands = []
    for block in _FENCE.finditer(text):
        if block["lang"] not in SHELL_LANGUAGES:
            continue
        first = text[:block.start("body")].count("\n") + 1
        lines = [line[len(block["indent"]):] for line in block["body"].splitlines()]
        if block["lang"] == "console":
            commands += _console(name, first, lines)
        else:
            commands += [Command(name, first + offset, joined) for offset, joined in _logical(lines)]
    return commands


def _logical(lines: list[str]) -> list[tuple[int, str]]:
    """(index of first line, command) for each logical line: ``\\`` continuations joined,
    comments and blank lines dropped."""
    out, start, parts = [], None, []
    for index, line in enumerate(lines):
        if start is None:
            start = index
        parts.append(line.rstrip().removesuffix("\\"))
        if line.rstrip().endswith("\\"):
            continue
        joined = " ".join(part.strip() for part in parts)
        if shlex.split(joined, comments=True):
            out.append((start, joined))
        start, parts = None, []
    return out


def _console(page: str, first: int, lines: list[str]) -> list[Command]:
    """``$ command`` lines (with continuations) and the errors documented in their output."""
    found: list[tuple[int, list[str], list[str]]] = []  # (line, command lines, output lines)
    for index, line in enumerate(lines):
        if line.startswith("$ "):
            found.append((index, [line[2:]], []))
        elif found and found[-1][1][-1].rstrip().endswith("\\") and not found[-1][2]:
            found[-1][1].append(line)
        elif found:
            found[-1][2].append(line)
    commands = []
    for index, command_lines, output in found:
        errors = tuple(match[1] for line in output if (match := _ERROR_LINE.search(line.strip())))
        for _, joined in _logical(command_lines):
            commands.append(Command(page, first + index, joined, errors))
    return commands


def split(text: str) -> tuple[dict[str, str], list[str]]:
    """A command line -> (leading VAR=value assignments, argv)."""
    words = shlex.split(text, comments=True)
    env = {}
    while words and re.fullmatch(r"[A-Z_][A-Z0-9_]*=.*", words[0]):
        key, value = words.pop(0).split("=", 1)
        env[key] = value
    return env, words


def check(command: Command) -> Outcome:
    """Check one command as far as it goes without loading a model or starting a server."""
    env, argv = split(command.text)
    program = argv[0]
    if program in EXTERNAL_PROGRAMS:
        return Outcome(skipped=f"{program}: {EXTERNAL_PROGRAMS[program]}")
    if program == "make":
        return check_make(argv[1:])
    if program in PYTHONS:
        return check_python(argv[1:], command.expected_errors)
    if program == "bash":
        return check_bash(argv[1:])
    return Outcome(errors=[f"unknown program {program!r}: check it here or list it in EXTERNAL_PROGRAMS"])


def check_python(args: list[str], expected_errors: tuple[str, ...] = ()) -> Outcome:
    if args[:1] == ["-c"]:  # python -c CODE: the code compiles
        compile(args[1], "<python -c>", "exec")
        return Outcome(1)
    if args[:1] != ["-m"]:
        script = args[0]
        if script in EXTERNAL_SCRIPTS:
            return Outcome(skipped=f"{script}: {EXTERNAL_SCRIPTS[script]}")
        path = REPO / script
        if not path.is_file():
            return Outcome(1, [f"no script {script}"])
        compile(path.read_text(), str(path), "exec")
        return Outcome(1)
    module, rest = args[1], args[2:]
    if module == "evosweep":
        return check_evosweep(rest, expected_errors)
    if module == "evosweep.bench":
        return check_bench(rest)
    if module == "evosweep.report":
        return check_report(rest)
    import importlib.util

    if importlib.util.find_spec(module) is None:
        return Outcome(1, [f"no module {module}"])
    return Outcome(1)


def check_bash(args: list[str]) -> Outcome:
    """``bash SCRIPT``: the script is in the repository and parses (``bash -n``)."""
    path = REPO / args[0]
    if not path.is_file():
        return Outcome(1, [f"no script {args[0]}"])
    done = subprocess.run(["bash", "-n", str(path)], capture_output=True, text=True, timeout=30)
    return Outcome(1, [f"bash -n {args[0]}: {done.stderr.strip()}"] if done.returncode else [])


def check_make(args: list[str]) -> Outcome:
    """``make -n``; the evosweep commands it prints are checked in turn."""
    done = subprocess.run(["make", "-n", *args], cwd=REPO, capture_output=True, text=True, timeout=60)
    if done.returncode != 0:
        return Outcome(1, [f"make -n {' '.join(args)}: {done.stderr.strip()}"])
    outcome = Outcome(1)
    for line in done.stdout.splitlines():
        try:
            _, argv = split(line)
        except ValueError:  # a recipe line continued with a backslash: not an evosweep command
            continue
        if len(argv) > 2 and argv[0] in PYTHONS and argv[1] == "-m" and argv[2].startswith("evosweep"):
            inner = check_python(argv[1:])
            outcome.checked += inner.checked
            outcome.errors += [f"{line.strip()}: {error}" for error in inner.errors]
    return outcome


def check_bench(args: list[str]) -> Outcome:
    from evosweep.bench.cli import parse_args
    from evosweep.settings.model_conf import model_settings

    try:
        model_settings(parse_args(args).model)
    except SystemExit as error:
        return Outcome(1, [f"python -m evosweep.bench: {error}"])
    return Outcome(1)


_REPORT_OPTIONS_WITH_VALUE = {"--tracking-uri", "--output-dir", "--into"}


def positional(args: list[str], options_with_value: set[str]) -> list[str]:
    """The arguments that are neither options nor the values of ``options_with_value``."""
    kept, skip = [], False
    for arg in args:
        if skip:
            skip = False
        elif arg in options_with_value:
            skip = True
        elif not arg.startswith("-"):
            kept.append(arg)
    return kept


def check_report(args: list[str]) -> Outcome:
    """The report reads an MLflow experiment: one that some documented command or config fills."""
    names = positional(args, _REPORT_OPTIONS_WITH_VALUE)  # the experiment, and nothing else
    if len(names) != 1 or names[0] not in tracked_experiments():
        return Outcome(1, [f"python -m evosweep.report {' '.join(args)}: no experiment file, config "
                              "or documented command logs to that MLflow experiment"])
    return Outcome(1)


@functools.cache
def tracked_experiments() -> frozenset[str]:
    """MLflow experiments runs log to: conf/experiment names, ``tracking.experiment`` values of
    the configs and of the documented commands."""
    names = {path.stem for path in (CONF / "experiment").glob("*.yaml")}
    names |= set(re.findall(r"^  experiment: *([\w.-]+)", "\n".join(
        path.read_text() for path in CONF.rglob("*.yaml")), re.M))
    for page in pages():
        names |= set(re.findall(r"tracking\.experiment=([\w.-]+)", page.read_text()))
    return frozenset(names)


# ----------------------------------------------------------------------------- python -m evosweep

_FLAGS_WITH_VALUE = {"--cfg", "-c", "--package", "-p", "--config-name", "-cn", "--config-dir", "-cd"}


def check_evosweep(args: list[str], expected_errors: tuple[str, ...] = ()) -> Outcome:
    """Compose and build every cell of the command (one, or each of a sweep's)."""
    multirun = "-m" in args or "--multirun" in args
    print_only = "--cfg" in args or "-c" in args or "--help" in args
    overrides = positional(args, _FLAGS_WITH_VALUE)
    reader = [READER_FILES[o] for o in overrides if o in READER_FILES]
    if reader:
        return Outcome(skipped="; ".join(reader))
    external = [EXTERNAL_OVERRIDES[o] for o in overrides if o in EXTERNAL_OVERRIDES]
    outcome, failed = Outcome(), set()
    for cell in cells(tuple(overrides)) if multirun else [tuple(overrides)]:
        outcome.checked += 1
        message = settings_error(cell, build=not (print_only or external))
        documented = [e for e in expected_errors if message is not None and _same_error(message, e)]
        failed.update(documented)
        if message is not None and not documented:
            outcome.errors.append(f"{' '.join(cell)}: {message}")
    for error in set(expected_errors) - failed:  # a documented failure that no longer happens
        outcome.errors.append(f"documented to fail with {error!r}, but every configuration builds")
    if external and not outcome.errors:
        outcome.skipped = f"composed only: {'; '.join(external)}"
    return outcome


def _same_error(actual: str, documented: str) -> bool:
    """Equal once machine-specific parts (the torch build) are set aside."""
    def norm(text: str) -> str:
        text = re.sub(r"^(evosweep: error: |ConfigError: )", "", text)
        return re.sub(r"torch [0-9][^\s)]*", "torch <version>", text)
    return norm(actual).startswith(norm(documented).removesuffix("...").rstrip())


def compose(overrides: tuple[str, ...]):
    """The config (with its ``hydra`` node) that ``python -m evosweep OVERRIDES`` composes."""
    from hydra import compose as hydra_compose
    from hydra import initialize_config_dir

    # entered and left each time: a Hydra left initialized breaks other tests' own initialize
    with initialize_config_dir(version_base="1.3", config_dir=str(CONF)):
        return hydra_compose("config", overrides=list(overrides), return_hydra_config=True)


@functools.cache
def settings_error(overrides: tuple[str, ...], build: bool = True) -> str | None:
    """None if the overrides compose and their settings build; else the one-line error a
    user would see (``evosweep: error: ...`` or Hydra's first line)."""
    from hydra.errors import HydraException
    from omegaconf import OmegaConf
    from omegaconf.errors import OmegaConfBaseException

    from evosweep.errors import EvosweepError
    from evosweep.models.device import resolve_device
    from evosweep.settings.build import build_settings

    try:
        cfg = compose(overrides)
        if not build:
            return None
        cfg = OmegaConf.masked_copy(cfg, [key for key in cfg if key != "hydra"])
        settings = build_settings(cfg)
        resolve_device(settings.device)
    except EvosweepError as error:
        return f"evosweep: error: {error}"
    except (HydraException, OmegaConfBaseException) as error:
        text = f"{error} {error.__cause__ or ''}"  # Hydra's own line, then OmegaConf's reason
        return " ".join(line.strip() for line in text.splitlines() if line.strip() and "full_key" not in line)
    return None


def cells(overrides: tuple[str, ...]) -> list[tuple[str, ...]]:
    """The configurations a ``-m`` command runs: its fixed overrides plus each sweep cell.

    The sweep is the command line's sweep overrides and the config's ``hydra.sweeper.params``
    (the command line wins). Optuna search spaces give their choices and interval ends.
    Cells vary one key at a time from the first value of each; seeds take their first value.
    """
    from hydra.core.override_parser.overrides_parser import OverridesParser

    parser = OverridesParser.create()
    parsed = parser.parse_overrides(list(overrides))
    fixed = tuple(o.input_line for o in parsed if not o.is_sweep_override())
    try:
        cfg = compose(fixed)
    except Exception:  # noqa: BLE001 -- the cell check reports the composition error
        return [fixed]
    params = dict(cfg.hydra.sweeper.get("params") or {})
    if "evosweep_optuna" in str(cfg.hydra.sweeper.get("_target_", "")):
        grid = _optuna_values(params, list(overrides))
    else:
        grid = _basic_values(parser, params, list(overrides))
    grid = {key: values[:1] if key == "seed" else values for key, values in grid.items()}
    base = {key: values[0] for key, values in grid.items()}
    out = [_cell(base)]
    for key, values in grid.items():
        for value in values[1:]:
            out.append(_cell({**base, key: value}))
    return list(dict.fromkeys(out))


def _cell(values: dict[str, str]) -> tuple[str, ...]:
    return tuple(f"{key}={value}" for key, value in values.items())


def _basic_values(parser, params: dict, arguments: list[str]) -> dict[str, list[str]]:
    """Hydra's basic sweeper: the config's params, then the command line (which wins)."""
    lines = {str(key): f"{key}={value}" for key, value in params.items()}
    for line in arguments:
        key = line.split("=", 1)[0]
        lines.pop(key.lstrip("+~"), None)
        lines[key] = line
    grid = {}
    for override in parser.parse_overrides(list(lines.values())):
        key = override.get_key_element()
        grid[key] = (list(override.sweep_string_iterator()) if override.is_sweep_override()
                     else [override.get_value_element_as_str()])
    return grid


def _optuna_values(params: dict, arguments: list[str]) -> dict[str, list[str]]:
    """evosweep's Optuna sweeper: its fixed overrides, then each searched choice or interval end."""
    from hydra_plugins.evosweep_optuna_sweeper.search_space import format_value, parse_search_space

    space = parse_search_space(params, arguments)
    grid = {}
    for line in space.fixed:
        key, value = line.split("=", 1)
        grid[key] = [value]
    for name, dist in space.distributions.items():
        values = dist.choices if hasattr(dist, "choices") else (dist.low, dist.high)
        grid[name] = [format_value(value) for value in values]
    return grid


def all_commands() -> list[Command]:
    return [command for page in pages() for command in extract(page)]

