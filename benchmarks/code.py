"""Benchmark: `defdip code` over synthetic news-length documents against spaCy's blank pipeline alone.

Writes N documents (default 10,000) of about 2,500 characters each from self-written templates: a few
sentences that name states, services and exercises, report visits, agreements, attaché postings, negations and
plans, among sentences no rule should fire on. Each run happens in its own process so peak memory is its own.

The baseline is ``spacy.blank("en")`` with the sentencizer over the same texts (``nlp.pipe``): the floor any
spaCy-based coder pays. Prints documents per second, candidates and peak memory for both, and the ratio.
Target (issue 13): at least 200 documents per second on one core.

    python benchmarks/code.py [--n 10000] [--seed 13]
"""

from __future__ import annotations

import argparse
import datetime
import json
import random
import subprocess
import sys
import tempfile
from pathlib import Path

STATES = ["India", "Japan", "Australia", "the United States", "France", "Germany", "Indonesia", "Vietnam",
          "the Philippines", "Brazil", "Kenya", "Poland", "Canada", "Singapore", "Malaysia", "South Korea"]
DEMONYMS = ["Indian", "Japanese", "Australian", "American", "French", "German", "Indonesian", "Vietnamese",
            "Philippine", "Brazilian", "Kenyan", "Polish", "Canadian", "Singaporean", "Malaysian", "South Korean"]
EVENTS = [
    "{a} and {b} held a joint naval exercise off the coast on {day} {month} {year}.",
    "The {da} defence minister visited {b} last week for talks on maritime security.",
    "{a} and {b} signed a defence cooperation agreement in the capital.",
    "{a} appointed a new defence attaché to {b}, the ministry said.",
    "{a} and {b} will hold their first air exercise next month.",
    "{a} did not sign the logistics agreement with {b}.",
    "The {da} Navy and the {db} Navy began drills with each other near the strait.",
    "{a} delivered four patrol vessels to {b} under an earlier contract.",
    "Troops from {a} and {b} may hold a joint exercise later this year.",
    "{a} and {b} called off the joint drills planned for the autumn.",
]
FILLER = [
    "Markets in the region were steady as traders awaited figures on inflation and growth.",
    "The weather bureau forecast heavy rain across the northern provinces for the rest of the week.",
    "Officials declined to comment on the timing of the announcement.",
    "Analysts said the move reflected a broader shift in the region's priorities.",
    "Local media reported that the ceremony was attended by several hundred guests.",
    "The statement gave no further details and did not say when more information would follow.",
    "Residents said the new road had cut travel times in half since it opened in the spring.",
    "The report, published on the ministry's website, runs to more than forty pages.",
]
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December"]


def documents(n: int, seed: int) -> list[dict[str, str]]:
    """N synthetic news items (id, date, text), reproducible from the seed."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        a, b = rng.sample(range(len(STATES)), 2)
        date = datetime.date(2015, 1, 1) + datetime.timedelta(days=rng.randrange(3000))
        fields = {"a": STATES[a], "b": STATES[b], "da": DEMONYMS[a], "db": DEMONYMS[b], "day": str(date.day),
                  "month": MONTHS[date.month - 1], "year": str(date.year)}
        sentences = [rng.choice(FILLER) for _ in range(rng.randint(24, 32))]
        for _ in range(rng.randint(1, 3)):
            sentences.insert(rng.randrange(len(sentences) + 1), rng.choice(EVENTS).format(**fields))
        paragraphs = [" ".join(sentences[k:k + 4]) for k in range(0, len(sentences), 4)]
        text = "\n\n".join(paragraphs)
        text = text[0].upper() + text[1:]
        out.append({"id": f"doc-{i}", "date": date.isoformat(), "text": text})
    return out


CHILD_CODE = """
import json, resource, sys, time
from defdip.text.coder import Coder
from defdip.text.documents import read_documents
docs, _ = read_documents([sys.argv[1]])
engine = Coder()
t = time.perf_counter()
result = engine.code(docs)
secs = time.perf_counter() - t
print(json.dumps({"seconds": secs, "documents": len(docs), "candidates": len(result.candidates),
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""

CHILD_BLANK = """
import json, resource, sys, time
import spacy
from defdip.text.documents import read_documents
docs, _ = read_documents([sys.argv[1]])
nlp = spacy.blank("en")
nlp.add_pipe("sentencizer")
t = time.perf_counter()
sentences = sum(len(list(d.sents)) for d in nlp.pipe((doc.text for doc in docs), batch_size=64))
secs = time.perf_counter() - t
print(json.dumps({"seconds": secs, "documents": len(docs), "sentences": sentences,
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def measure(child: str, path: Path) -> dict[str, float]:
    proc = subprocess.run([sys.executable, "-c", child, str(path)], capture_output=True, text=True, check=True)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=10_000, help="documents to generate (default 10,000)")
    parser.add_argument("--seed", type=int, default=13)
    args = parser.parse_args()
    docs = documents(args.n, args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "news.jsonl"
        path.write_text("".join(json.dumps(d) + "\n" for d in docs), encoding="utf-8")
        chars = sum(len(d["text"]) for d in docs) / len(docs)
        print(f"{len(docs):,} documents, {chars:,.0f} characters on average")
        base = measure(CHILD_BLANK, path)
        coded = measure(CHILD_CODE, path)
    for name, run in (("spaCy blank + sentencizer", base), ("defdip code", coded)):
        rate = run["documents"] / run["seconds"]
        extra = f"{run['candidates']:,} candidates" if "candidates" in run else f"{run['sentences']:,} sentences"
        print(f"{name:<26} {run['seconds']:7.2f} s  {rate:8,.0f} documents/s  peak {run['peak_rss_mb']:6.0f} MB"
              f"  ({extra})")
    ratio = coded["seconds"] / base["seconds"]
    rate = coded["documents"] / coded["seconds"]
    print(f"defdip code takes {ratio:.2f}x the blank pipeline; target >= 200 documents/s: "
          f"{'met' if rate >= 200 else 'NOT met'} ({rate:,.0f})")


if __name__ == "__main__":
    main()
