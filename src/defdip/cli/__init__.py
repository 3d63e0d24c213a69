"""The `defdip` command: a thin mirror of the Python API, one module per help panel (registered in the order
`defdip -h` lists them)."""

from __future__ import annotations

import sys

import typer
from rich.markup import escape

# typer (0.26 on) ships its own copy of click: the usage errors it raises are these classes, not the click package's
from typer._click.exceptions import BadParameter, MissingParameter, NoArgsIsHelpError, NoSuchOption, UsageError
from typer.main import get_command

# isort: off
# importing a command module registers its commands; `defdip -h` lists them in this order
from defdip.cli import check, explore, analyse, outputs, events, text  # noqa: F401
# isort: on
from defdip.cli.app import STATE, app, err_console
from defdip.core.errors import DefdipError


def command_path(args: list[str]) -> str:
    """The command a command line names ('defdip panel state-year'), for errors raised without a context."""
    command = get_command(app)
    words = ["defdip"]
    for token in args:
        if token.startswith("-"):
            continue
        sub = getattr(command, "commands", {}).get(token)
        if sub is None:
            break
        command, words = sub, [*words, token]
    return " ".join(words)


def param_name(param: object) -> str:
    """An option as -o/--output (short first), an argument as its metavar (COUNTRY)."""
    opts = sorted(getattr(param, "opts", []), key=len)
    if getattr(param, "param_type_name", "") == "option" and opts:
        return "/".join(opts)
    return str(getattr(param, "name", "") or "").upper()


def describe(param: object) -> str:
    """A parameter's help as the noun phrase after 'give' ('the panel file to write (.csv, ...)')."""
    phrase = str(getattr(param, "help", "") or "a value").strip().rstrip(".")
    return phrase[:1].lower() + phrase[1:]


def usage_line(exc: UsageError, args: list[str]) -> str:
    """One line for a usage error: what is wrong, with which command, and what to give instead."""
    path = exc.ctx.command_path if exc.ctx is not None else command_path(args)
    see = f"see '{path} -h'"
    message = " ".join(str(exc.message).split()).removeprefix("Value error, ").rstrip(".")
    if isinstance(exc, MissingParameter) and exc.param is not None:
        kind = "option" if exc.param.param_type_name == "option" else "argument"
        return f"missing {kind} {param_name(exc.param)} for '{path}' (give {describe(exc.param)})"
    if isinstance(exc, BadParameter):
        if exc.param is None and exc.param_hint is None:
            return f"{path}: {message}"
        name = param_name(exc.param) if exc.param is not None else str(exc.param_hint)
        fix = "" if "give" in message else f" ({see})"  # the type's own message names no fix: point to the help
        return f"bad value for {name} in '{path}': {message[:1].lower() + message[1:]}{fix}"
    if isinstance(exc, NoSuchOption):
        hint = f"did you mean {' or '.join(sorted(exc.possibilities))}? " if exc.possibilities else ""
        return f"'{path}' has no option {exc.option_name} ({hint}{see})"
    return f"{path}: {message[:1].lower() + message[1:]} ({see})"


def main() -> None:
    """Entry point: usage errors and user errors become one clear line; --debug shows the traceback."""
    args = sys.argv[1:]
    STATE["debug"] = "--debug" in args  # before parsing, so an error in parsing honours it too
    try:
        code = app(args, prog_name="defdip", standalone_mode=False)  # typer.Exit(n) comes back as n
        if isinstance(code, int) and code:
            sys.exit(code)
    except NoArgsIsHelpError:  # a bare group: its help is already printed
        sys.exit(2)
    except UsageError as exc:
        if STATE["debug"]:
            raise
        err_console.print(f"[bold red]error:[/] {escape(usage_line(exc, args))}", highlight=False, soft_wrap=True)
        sys.exit(2)
    except DefdipError as exc:
        if STATE["debug"]:
            raise
        err_console.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True)
        sys.exit(1)
    except typer.Abort:
        sys.exit(1)
    except (KeyboardInterrupt, BrokenPipeError):
        sys.exit(130)
    except Exception as exc:
        if STATE["debug"]:
            raise
        err_console.print(f"[bold red]unexpected error:[/] {escape(f'{type(exc).__name__}: {exc}')} "
                          "(rerun with --debug)", highlight=False, soft_wrap=True)
        sys.exit(2)
