"""Benchmark: the web API under load, eight concurrent clients on loopback, beside an in-process baseline.

    .venv/bin/python benchmarks/load.py [--sources DIR] [--store FILE] [--rounds N] [--requests N]
                                        [--clients N] [--round-seconds S] [--warm-up]

Builds a store from the sources folder (``DEFDIP_SOURCES``) into a temporary folder when no ``--store`` file
exists, starts ``defdip serve`` on 127.0.0.1 on a free port and runs bounded rounds (a request count and a time
limit each) of two kinds, each with ``--clients`` concurrent clients (one httpx client per thread):

* ``mix``         -- networks of a year (six layers, years 1950-2000 in steps of five, a quarter of them
  ten-year windows), dyad-year panel slices (five-year windows from 1950, or one of 40 countries 1990-2010),
  filtered engagements (random countries, partners, activities, sources and years) and profiles of 40
  countries, drawn at random with a fixed seed: a dashboard's working set (about 200 distinct networks,
  slices and profiles), so that round 1 meets most of it cold and later rounds mostly find it cached;
* ``engagements`` -- ``/api/engagements`` with filters only (country, partner, activity, years, source).

Per round: p50 and p99 latency, requests per second, errors (any status other than 200, or a failed request)
and the server's resident memory (VmRSS) after the round. The baseline is the same requests answered in the
same run by the library in this process, one at a time, without HTTP (network.network, panels.dyad_year,
profiles.profile and the read layer's engagements page on one read-only store handle).

With ``--warm-up`` every distinct network, slice and profile of the mix is requested once first (timed and
reported as a round of its own), so the rounds measure a warm server; without it round 1 meets the working set
cold: the summary leaves it out of the mix's p99 and reports its p99 on a line of its own (cold, right after
start-up: the server has read what answers are cut from and computed the profiles of every state and of the 48
busiest other polities, no network and no slice).

Targets (issue 9): p99 under 300 ms for the mix, at least 100 requests/s for filtered engagements, zero errors,
memory flat across rounds (the last round's RSS within 15% of the second's).
Traffic goes only to 127.0.0.1.
"""

from __future__ import annotations

import argparse
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

import httpx

ROOT = Path(__file__).resolve().parents[1]
HOST = "127.0.0.1"
P99_TARGET_MS = 300.0
RPS_TARGET = 100.0
RSS_GROWTH_LIMIT = 0.15

COUNTRIES = ["USA", "FRN", "UKG", "GMY", "RUS", "CHN", "JPN", "IND", "BRA", "CAN", "ITA", "SPN", "TUR", "EGY",
             "ISR", "IRN", "PAK", "AUL", "ROK", "MEX", "ARG", "SAF", "NIG", "POL", "SWD", "NOR", "NTH", "BEL",
             "GRC", "UKR", "KEN", "INS", "THI", "VNM", "PHI", "SAU", "IRQ", "SYR", "CUB", "COL"]
NET_LAYERS = {"all": 1950, "atop_defense": 1950, "agreements": 1950, "alliances": 1950, "dca_any": 1980,
              "exercises": 1980}
"""Network layers of the mix and the first year drawn for each (DCAD and the exercise panel start in 1980)."""
ACTIVITIES = [None, "agreements", "exercises", "contacts"]


def mix_requests(rng: random.Random, n: int) -> list[tuple[str, str, dict]]:
    """``n`` (kind, path, params) drawn from the four kinds of the mix in equal shares."""
    out = []
    for i in range(n):
        kind = ("network", "panel", "engagements", "profile")[i % 4]
        if kind == "network":
            layer = rng.choice(list(NET_LAYERS))
            year = rng.randrange(NET_LAYERS[layer], 2001, 5)
            params = {"year": year, "layer": layer, "max_edges": 500, "max_nodes": 200}
            if rng.random() < 0.25:
                params["to_year"] = year + 9
            out.append((kind, "/api/network", params))
        elif kind == "panel":
            if rng.random() < 0.5:
                start = rng.randrange(1950, 2006, 5)
                params = {"from_year": start, "to_year": start + 4, "layers": "atop_defense,dca_any", "limit": 500}
            else:
                params = {"country": rng.choice(COUNTRIES), "from_year": 1990, "to_year": 2010,
                          "layers": "atop_defense,exercises", "limit": 500}
            out.append((kind, "/api/panel/dyad-year", params))
        elif kind == "engagements":
            out.append((kind, "/api/engagements", engagement_params(rng)))
        else:
            out.append((kind, f"/api/profile/{rng.choice(COUNTRIES)}", {"timeline_limit": 100}))
    return out


def working_set() -> list[tuple[str, str, dict]]:
    """Every distinct network, panel slice and profile the mix draws from (what a warm-up pass requests)."""
    out = []
    for layer, first in NET_LAYERS.items():
        for year in range(first, 2001, 5):
            base = {"year": year, "layer": layer, "max_edges": 500, "max_nodes": 200}
            out += [("network", "/api/network", base), ("network", "/api/network", {**base, "to_year": year + 9})]
    for start in range(1950, 2006, 5):
        out.append(("panel", "/api/panel/dyad-year", {"from_year": start, "to_year": start + 4,
                                                      "layers": "atop_defense,dca_any", "limit": 500}))
    for country in COUNTRIES:
        out.append(("panel", "/api/panel/dyad-year", {"country": country, "from_year": 1990, "to_year": 2010,
                                                      "layers": "atop_defense,exercises", "limit": 500}))
        out.append(("profile", f"/api/profile/{country}", {"timeline_limit": 100}))
    return out


def engagement_params(rng: random.Random) -> dict:
    start = rng.randint(1900, 2010)
    params: dict = {"country": rng.choice(COUNTRIES), "from_year": start, "to_year": start + rng.randint(0, 20),
                    "page_size": 50}
    activity = rng.choice(ACTIVITIES)
    if activity:
        params["activity"] = activity
    if rng.random() < 0.3:
        params["partner"] = rng.choice(COUNTRIES)
    if rng.random() < 0.2:
        params["source"] = rng.choice(["atop", "dcad", "sipri", "mme"])
    return params


def engagement_requests(rng: random.Random, n: int) -> list[tuple[str, str, dict]]:
    return [("engagements", "/api/engagements", engagement_params(rng)) for _ in range(n)]


# ----------------------------------------------------------------------------------------------- the server

def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def start_server(store: Path, port: int, timeout: float = 60.0) -> subprocess.Popen:
    exe = Path(sys.executable).with_name("defdip")
    proc = subprocess.Popen([str(exe), "serve", "--host", HOST, "--port", str(port), "--store", str(store)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the server exited: {proc.stderr.read().decode()[-500:]}")
        try:
            if httpx.get(f"http://{HOST}:{port}/api/codebook", timeout=2).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit(f"the server did not answer within {timeout:.0f} s")


# ----------------------------------------------------------------------------------------------- a round

def run_round(port: int, requests: list[tuple[str, str, dict]], clients: int, seconds: float) -> dict:
    """Send ``requests`` with ``clients`` threads (each its own connection) until done or ``seconds`` pass."""
    lock = threading.Lock()
    queue = list(reversed(requests))
    results: list[tuple[str, float, int]] = []
    slowest: list[tuple[float, str]] = []
    deadline = time.monotonic() + seconds

    def worker() -> None:
        with httpx.Client(base_url=f"http://{HOST}:{port}", timeout=30) as client:
            while time.monotonic() < deadline:
                with lock:
                    if not queue:
                        return
                    kind, path, params = queue.pop()
                t0 = time.perf_counter()
                try:
                    status = client.get(path, params=params).status_code
                except httpx.HTTPError:
                    status = -1
                elapsed = time.perf_counter() - t0
                with lock:
                    results.append((kind, elapsed, status if status == 200 else _log_error(path, params, status)))
                    slowest.append((elapsed, f"{path}?{urlencode(params)}"))

    threads = [threading.Thread(target=worker) for _ in range(clients)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join(seconds + 35)
    wall = time.perf_counter() - t0
    return {**summarise(results, wall), "slowest": sorted(slowest, reverse=True)[:3]}


ERRORS_SHOWN: list[str] = []


def _log_error(path: str, params: dict, status: int) -> int:
    if len(ERRORS_SHOWN) < 5:
        ERRORS_SHOWN.append(f"{status} {path}?{urlencode(params)}")
    return status


def summarise(results: list[tuple[str, float, int]], wall: float) -> dict:
    times = sorted(r[1] for r in results)
    errors = sum(1 for r in results if r[2] != 200)
    per_kind = {}
    for kind in sorted({r[0] for r in results}):
        k = sorted(r[1] for r in results if r[0] == kind)
        per_kind[kind] = quantile(k, 0.99) * 1000
    return {"n": len(results), "p50": quantile(times, 0.5) * 1000, "p99": quantile(times, 0.99) * 1000,
            "rps": len(results) / wall if wall else 0.0, "errors": errors, "wall": wall, "p99_kind": per_kind}


def quantile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[round(q * 100) - 1] if q < 1 else values[-1]


# ----------------------------------------------------------------------------------------------- the baseline

def baseline(store: Path, requests: list[tuple[str, str, dict]], seconds: float) -> dict:
    """The same requests answered by the library in this process, one at a time, without HTTP."""
    from defdip.analysis import network, panels, profiles
    from defdip.store import queries

    db = queries.open_store(store)
    results = []
    deadline = time.monotonic() + seconds
    t_start = time.perf_counter()
    try:
        for kind, path, params in requests:
            if time.monotonic() > deadline:
                break
            t0 = time.perf_counter()
            status = 200
            try:
                if kind == "network":
                    network.network(params["year"], layer=params["layer"], store=db.con,
                                    to_year=params.get("to_year"))
                elif kind == "panel":
                    countries = [params["country"]] if "country" in params else None
                    panels.dyad_year(store, from_year=params["from_year"], to_year=params["to_year"],
                                     layers=params["layers"].split(","), countries=countries).head(params["limit"])
                elif kind == "profile":
                    profiles.profile(path.rsplit("/", 1)[1], store=db)
                else:
                    ids = {k: queries.polity_id(params[k]) for k in ("country", "partner") if k in params}
                    f = queries.EngagementFilter(
                        country=ids.get("country"), partner=ids.get("partner"), activity=params.get("activity"),
                        source=params.get("source"), from_year=params["from_year"], to_year=params["to_year"])
                    queries.engagement_page(f, db, page_size=50)
            except Exception:  # noqa: BLE001 - a library error counts as an error, like a non-200 answer
                status = 500
            results.append((kind, time.perf_counter() - t0, status))
    finally:
        db.close()
    return summarise(results, time.perf_counter() - t_start)


# ----------------------------------------------------------------------------------------------- main

def ensure_store(store: Path | None, sources: Path | None, tmp: Path) -> Path:
    if store is not None and store.is_file():
        return store
    from defdip.ingest.build import build

    src = sources or (Path(os.environ["DEFDIP_SOURCES"]) if os.environ.get("DEFDIP_SOURCES") else None)
    if src is None or not src.is_dir():
        raise SystemExit("no store and no sources folder: pass --store FILE or --sources DIR (or DEFDIP_SOURCES)")
    path = store or tmp / "defdip.duckdb"
    print(f"building a store from {src} into {path} ...", flush=True)
    t0 = time.perf_counter()
    build(path, src)
    print(f"  built in {time.perf_counter() - t0:.1f} s", flush=True)
    return path


def line(label: str, r: dict, rss: float | None) -> str:
    text = (f"{label:<22} n={r['n']:>4}  p50 {r['p50']:7.1f} ms  p99 {r['p99']:7.1f} ms  "
            f"{r['rps']:7.1f} req/s  errors {r['errors']}")
    if rss is not None:
        text += f"  RSS {rss:6.0f} MB"
    return text


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sources", type=Path, default=None)
    parser.add_argument("--store", type=Path, default=None)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--requests", type=int, default=200, help="requests per round")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--round-seconds", type=float, default=60.0, help="time limit of one round")
    parser.add_argument("--seed", type=int, default=9)
    parser.add_argument("--warm-up", action="store_true",
                        help="first request every distinct network, slice and profile of the mix once")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory(prefix="defdip-load-") as tmp:
        store = ensure_store(args.store, args.sources, Path(tmp))
        port = free_port()
        server = start_server(store, port)
        ok = True
        try:
            print(f"server pid {server.pid} on {HOST}:{port}, store {store}; RSS at start {rss_mb(server.pid):.0f} MB")
            print(f"targets: mix p99 < {P99_TARGET_MS:.0f} ms; engagements >= {RPS_TARGET:.0f} req/s; 0 errors; "
                  f"RSS growth from round 2 to the last <= {RSS_GROWTH_LIMIT:.0%}")
            rows: dict[str, list[tuple[dict, float]]] = {"mix": [], "engagements": []}
            if args.warm_up:
                reqs = working_set()
                r = run_round(port, reqs, args.clients, args.round_seconds * 5)
                print(line("warm-up (working set)", r, rss_mb(server.pid)) + f"  in {r['wall']:.0f} s", flush=True)
            for i in range(1, args.rounds + 1):
                for kind, make in (("mix", mix_requests), ("engagements", engagement_requests)):
                    reqs = make(rng, args.requests)
                    r = run_round(port, reqs, args.clients, args.round_seconds)
                    rss = rss_mb(server.pid)
                    rows[kind].append((r, rss))
                    print(line(f"round {i} {kind}", r, rss), flush=True)
                    if kind == "mix":
                        print("    p99 by kind: " + ", ".join(f"{k} {v:.0f} ms" for k, v in r["p99_kind"].items()))
                        print("    slowest: " + "; ".join(f"{t * 1000:.0f} ms {q}" for t, q in r["slowest"]))
                    if i == 1:
                        b = baseline(store, reqs, args.round_seconds)
                        print(line(f"  baseline {kind}", b, None) + "  (in-process, one at a time, no HTTP)")
            for e in ERRORS_SHOWN:
                print(f"  error: {e}")
            measured = rows["mix"] if args.warm_up else rows["mix"][1:] or rows["mix"]
            mix_p99 = max(r["p99"] for r, _ in measured)
            eng_rps = min(r["rps"] for r, _ in rows["engagements"])
            errors = sum(r["errors"] for kind in rows for r, _ in rows[kind])
            rss = [s for kind in ("mix", "engagements") for _, s in rows[kind]]
            growth = (rss[-1] - rss[1]) / rss[1] if len(rss) > 2 else 0.0
            label = "mix p99 (every round, warm)" if args.warm_up else "mix p99 (rounds after the first)"
            checks = [(label, f"{mix_p99:.0f} ms", mix_p99 < P99_TARGET_MS)]
            if not args.warm_up:  # the working set met cold, right after start-up
                cold = rows["mix"][0][0]["p99"]
                checks.append(("mix p99 (round 1, cold)", f"{cold:.0f} ms", cold < P99_TARGET_MS))
            checks += [("engagements req/s (worst round)", f"{eng_rps:.0f}", eng_rps >= RPS_TARGET),
                       ("errors", str(errors), errors == 0),
                       ("RSS growth round 2 -> last", f"{growth:+.0%}", growth <= RSS_GROWTH_LIMIT)]
            print("summary:")
            for name, value, met in checks:
                print(f"  {name:<34} {value:>10}  {'met' if met else 'NOT met'}")
                ok &= met
        finally:
            server.terminate()
            try:
                server.wait(10)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait(5)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
