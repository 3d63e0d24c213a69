"""The `defdip` command: a thin mirror of the Python API, one module per area."""

from __future__ import annotations

import sys

from defdip.cli import analysis, core, data, events, explore, query, show, text, validation  # noqa: F401  (registers commands)
from defdip.cli.app import STATE, app, err_console
from defdip.core.errors import DefdipError


def main() -> None:
    """Entry point: user errors become one clear line; --debug shows the traceback."""
    try:
        code = app(standalone_mode=False)  # a command's typer.Exit(n) comes back as its return value
        if isinstance(code, int) and code:
            sys.exit(code)
    except DefdipError as exc:
        if STATE["debug"]:
            raise
        err_console.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
        sys.exit(1)
    except (KeyboardInterrupt, BrokenPipeError):
        sys.exit(130)
    except SystemExit:
        raise
    except Exception as exc:  # click usage errors carry their own exit codes
        import click

        if isinstance(exc, click.exceptions.ClickException):
            exc.show()
            sys.exit(exc.exit_code)
        if isinstance(exc, click.exceptions.Exit):
            sys.exit(exc.exit_code)
        if isinstance(exc, click.exceptions.Abort):
            sys.exit(1)
        if STATE["debug"]:
            raise
        err_console.print(f"[bold red]unexpected error:[/] {type(exc).__name__}: {exc} (rerun with --debug)")
        sys.exit(2)
