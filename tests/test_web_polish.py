"""The dashboard's rough edges (issue 11 item 6) that need no browser: the serve command, /docs, search."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from conftest import synthetic_engagements, write_store
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from defdip.cli import app
from defdip.core import translit
from defdip.core.errors import DefdipError
from defdip.present.web import create_app


def test_serve_on_a_busy_port_fails_before_saying_it_serves(synthetic_store: Path) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        result = CliRunner().invoke(app, ["serve", "--port", str(port), "--store", str(synthetic_store)])
    assert isinstance(result.exception, DefdipError)
    assert f"port {port}" in str(result.exception) and "already in use" in str(result.exception)
    assert "serving" not in result.output


# ----------------------------------------------------------------------------------------------- search

@pytest.fixture(scope="module")
def titled_client(tmp_path_factory: pytest.TempPathFactory) -> TestClient:
    """The synthetic store with exercise titles in Latin and Cyrillic letters."""
    titles = {"s-04": "Balikatan 2002", "s-05": "Римпак-2012", "s-08": "Exercise Balikatan"}
    engagements = [e.model_copy(update={"title": titles[e.id]}) if e.id in titles else e
                   for e in synthetic_engagements()]
    store = write_store(tmp_path_factory.mktemp("titled") / "s.duckdb", engagements)
    return TestClient(create_app(store))


def _main(html: str) -> str:
    return html.split("<main>", 1)[1].split("</main>", 1)[0]


def test_search_ranks_titles_above_look_alike_polities(titled_client: TestClient) -> None:
    main = _main(titled_client.get("/search", params={"q": "Balikatan"}).text)
    assert "Tajikistan" not in main and "Taliban" not in main
    assert main.index("Engagements and records (2)") < main.index("Polities")
    assert main.index("Balikatan 2002") < main.index("Exercise Balikatan")  # a title that begins with it first


def test_search_finds_transliterated_titles(titled_client: TestClient) -> None:
    main = _main(titled_client.get("/search", params={"q": "Rimpac 2012"}).text)
    assert "Римпак-2012" in main and "(Rimpak-2012)" in main and 'href="/record/s-05"' in main
    assert "Engagements and records (1)" in main
    cyrillic = _main(titled_client.get("/search", params={"q": "баликатан"}).text)
    assert "Engagements and records (2)" in cyrillic


def test_search_for_a_country_lists_it_first(titled_client: TestClient) -> None:
    main = _main(titled_client.get("/search", params={"q": "France"}).text)
    assert main.index('id="polity-results"') < main.index("Engagements and records")
    assert 'href="/country/FRN"' in main.split("</ul>", 1)[0]
    typo = _main(titled_client.get("/search", params={"q": "Frnace"}).text)
    assert "Polities with a similar name" in typo and 'href="/country/FRN"' in typo


def test_search_key_meets_spellings_across_scripts() -> None:
    assert translit.search_key("RIMPAC-2012") == translit.search_key("Римпак 2012") == "rimpak 2012"
    assert translit.search_key("Ioniex") == translit.search_key("Иониекс")
    assert translit.search_key("Zapad (West) 99") == "zapad vest 99"
    assert translit.latin("Щит Союза-2006") == "Shchit Soyuza-2006"
    assert translit.latin("Balikatan") == "Balikatan"
