"""The dashboard's rough edges (issue 11 item 6) that need no browser: the serve command, /docs, search."""

from __future__ import annotations

import socket
from pathlib import Path

from typer.testing import CliRunner

from defdip.cli import app
from defdip.errors import DefdipError


def test_serve_on_a_busy_port_fails_before_saying_it_serves(synthetic_store: Path) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        result = CliRunner().invoke(app, ["serve", "--port", str(port), "--store", str(synthetic_store)])
    assert isinstance(result.exception, DefdipError)
    assert f"port {port}" in str(result.exception) and "already in use" in str(result.exception)
    assert "serving" not in result.output
