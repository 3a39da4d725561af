"""What every speechsent entry point shares: ``--config FILE`` (YAML), boolean options, logging.

Entry points follow one pattern (ESPnet's ``espnet2/bin/*.py``)::

    def get_parser() -> argparse.ArgumentParser: ...     # underscore options, so YAML keys match
    def main(argv=None) -> int:
        args = cli.parse_args(get_parser(), argv)         # --config values, then the command line
        cli.setup_logging(args.log_level)
        ...

This module imports nothing heavy (yaml only when a config is given): ``--help`` stays fast.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Sequence

LOG_FORMAT = "%(asctime)s (%(module)s:%(lineno)d) %(levelname)s: %(message)s"


def str2bool(value: str | bool) -> bool:
    """``true``/``false`` (also 1/0, yes/no) as an argparse ``type``, as Kaldi/ESPnet scripts pass them."""
    if isinstance(value, bool):
        return value
    lowered = value.lower()
    if lowered in ("true", "1", "yes"):
        return True
    if lowered in ("false", "0", "no"):
        return False
    raise argparse.ArgumentTypeError(f"expected true or false, got {value!r}")


#: How YAML files and shell scripts spell "no value" for an optional option (compared lower-cased).
NONE_SPELLINGS = ("", "none", "null")


def none_or_str(value: str) -> str | None:
    """``none``/``null``/empty → None, anything else as given (argparse ``type`` of optional paths, names)."""
    return None if str(value).lower() in NONE_SPELLINGS else str(value)


def none_or_float(value: str) -> float | None:
    """``none``/``null``/empty → None, else ``float(value)``."""
    return None if str(value).lower() in NONE_SPELLINGS else float(value)


def _amp_dtype(value: str, allow_auto: bool) -> str | None:
    v = str(value).lower()
    if v in ("none", "false", "0", "no", ""):
        return None
    if allow_auto and v in ("true", "1", "yes", "auto"):
        return "auto"
    if v in ("fp16", "float16", "bf16", "bfloat16"):
        return "bf16" if v.startswith("b") else "fp16"
    expected = "none, true, fp16 or bf16" if allow_auto else "none, fp16 or bf16"
    raise argparse.ArgumentTypeError(f"expected {expected}, got {value!r}")


def amp_type(value: str) -> str | None:
    """A trainer's mixed precision: ``none``/``false`` → None; ``fp16``/``float16``; ``bf16``/``bfloat16``."""
    return _amp_dtype(value, allow_auto=False)


def amp_or_auto_type(value: str) -> str | None:
    """As :func:`amp_type`, plus ``true``/``auto`` → ``auto`` (bf16 where the GPU has it, else fp16)."""
    return _amp_dtype(value, allow_auto=True)


def make_parser(prog: str, description: str | None, *, config: bool = True) -> argparse.ArgumentParser:
    """An entry point's parser: ``prog``, its module docstring as the description (shown as written), and
    ``--config FILE`` (unless ``config`` is false)."""
    parser = argparse.ArgumentParser(
        prog=prog, description=description, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    if config:
        add_config_argument(parser)
    return parser


def add_job_runner_arguments(
    g: argparse._ArgumentGroup | argparse.ArgumentParser,
    cmd_help: str = "job runner (run.pl, slurm.pl, queue.pl + options)",
) -> None:
    """``--nj`` (default 1) and ``--cmd`` (default run.pl): how a stage's jobs run (``speechsent.jobs``)."""
    g.add_argument("--nj", type=int, default=1, help="number of parallel jobs")
    g.add_argument("--cmd", default="run.pl", help=cmd_help)


def add_list_argument(g: argparse._ArgumentGroup | argparse.ArgumentParser, option: str, help: str) -> None:
    """A repeatable option (default: none) whose values may also be space-separated lists, as the recipes
    pass ``--data_dir "data/a data/b"``; :func:`split_words` gives its items."""
    g.add_argument(option, action="append", default=[], help=help)


def split_words(values: Sequence[object]) -> list[str]:
    """The items of an :func:`add_list_argument` option: every value split at white space."""
    return [item for value in values for item in str(value).split()]


def add_config_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config",
        default=None,
        help="YAML file of option values (keys = option names; the command line wins)",
    )


def _config_value(action: argparse.Action, value: object) -> object:
    """A YAML value converted as argparse converts the same value given on the command line."""
    convert = action.type if callable(action.type) else None
    if isinstance(action, argparse._AppendAction):  # a repeatable option: one value or a list of them
        values = value if isinstance(value, list) else [value]
        return [convert(str(v)) if convert else v for v in values]
    if isinstance(value, list):
        if action.nargs in (None, "?"):  # one option holding a space-separated list, e.g. --hours "86 5 5"
            joined = " ".join(map(str, value))
            return convert(joined) if convert else joined
        return [convert(str(v)) if convert else v for v in value]
    if convert is not None and (isinstance(value, str) or convert is str2bool):
        return convert(value)
    return value


def parse_args(parser: argparse.ArgumentParser, argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Parse ``argv`` with the defaults of ``--config FILE`` (a YAML mapping of option names) applied first.

    Unknown keys and malformed values are usage errors naming the file.
    """
    pre = argparse.ArgumentParser(add_help=False)
    pre.add_argument("--config", default=None)
    known, _ = pre.parse_known_args(argv)
    if known.config:
        import yaml

        try:
            with open(known.config, encoding="utf-8") as f:
                values = yaml.safe_load(f) or {}
        except (OSError, yaml.YAMLError) as error:
            parser.error(f"--config {known.config}: {error}")
        if not isinstance(values, dict):
            parser.error(f"--config {known.config}: expected a mapping of option names to values")
        actions = {a.dest: a for a in parser._actions if a.dest not in ("help", "config")}
        unknown = sorted(set(values) - set(actions))
        if unknown:
            parser.error(f"--config {known.config}: unknown option(s): {', '.join(unknown)}")
        try:
            converted = {key: _config_value(actions[key], value) for key, value in values.items()}
        except (argparse.ArgumentTypeError, ValueError, TypeError) as error:
            parser.error(f"--config {known.config}: {error}")
        # A repeatable option given on the command line replaces the config's list (argparse would append
        # to a default), so those are applied after parsing, where the command line gave none.
        repeatable = {k: v for k, v in converted.items() if isinstance(actions[k], argparse._AppendAction)}
        parser.set_defaults(**{k: v for k, v in converted.items() if k not in repeatable})
        args = parser.parse_args(argv)
        for key, value in repeatable.items():
            if getattr(args, key) in (None, actions[key].default):
                setattr(args, key, value)
        return args
    return parser.parse_args(argv)


def add_log_level_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--log_level", default="INFO", choices=("DEBUG", "INFO", "WARNING", "ERROR"))


def setup_logging(level: str = "INFO") -> None:
    """Log lines as ESPnet's tools write them, to stderr (stdout stays for data)."""
    logging.basicConfig(level=level, format=LOG_FORMAT, stream=sys.stderr)


def run_reporting_errors(
    work: Callable[[], object], logger: logging.Logger, errors: tuple[type[BaseException], ...]
) -> int:
    """Run ``work()`` for an entry point's ``main``: exit status 0, or 1 with the message logged (no
    traceback) when it raises one of ``errors`` (bad input, missing files: what the user fixes, not a bug)."""
    try:
        work()
    except errors as exc:
        logger.error("%s", exc)
        return 1
    return 0
