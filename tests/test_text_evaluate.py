"""Gold sets and the scorer for the text coder: loading both kinds of gold file, and the scoring arithmetic."""

from __future__ import annotations

import datetime
import json
import time
from collections import Counter
from importlib import resources
from pathlib import Path

import numpy as np
import pytest

from defdip.core.actors import registry
from defdip.core.codebook import codebook
from defdip.core.errors import DefdipError
from defdip.text.evaluate import BOOTSTRAP_SEED, GoldItem, Prediction, bootstrap_intervals, score
from defdip.text.gold import EVENT_STATUSES, STATUSES, load_gold, plover_map, plover_overrides, plover_split
from defdip.text.scoring import evaluate

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "text_gold" / "plover_sample.txt"
DATA = resources.files("defdip").joinpath("data/text")


def own_set(split: str) -> list[GoldItem]:
    with resources.as_file(DATA.joinpath(f"gold_{split}.jsonl")) as path:
        return load_gold(path)


def events(item: GoldItem) -> bool:
    return item.status in EVENT_STATUSES


def perfect(item: GoldItem) -> list[Prediction]:
    """What a flawless coder says: one prediction per gold activity and pair, with the gold status."""
    if item.status == "none":
        return []
    pairs: list[frozenset[str] | None] = list(item.pairs) or [None]
    return [Prediction(activity, pair, item.status) for activity in sorted(item.activities) for pair in pairs]


def item(item_id: str, status: str, activities: set[str], pairs: list[tuple[str, str]]) -> GoldItem:
    return GoldItem(id=item_id, text=f"sentence {item_id}", date=None, activities=frozenset(activities),
                    pairs=frozenset(frozenset(p) for p in pairs), status=status, corpus="t", split="dev")


# ---------------------------------------------------------------------------------- our own sets


@pytest.mark.parametrize("split", ["dev", "test"])
def test_own_sets_are_large_and_cover_every_activity_and_status(split: str) -> None:
    items = own_set(split)
    assert len(items) >= 150
    assert {i.split for i in items} == {split}
    assert {i.corpus for i in items} == {"defdip"}
    statuses = Counter(i.status for i in items)
    assert set(statuses) == set(STATUSES)
    assert statuses["none"] >= 0.2 * len(items)  # a good share of negatives
    per_activity = Counter(a for i in items if events(i) for a in i.activities)
    assert set(per_activity) == set(codebook().activity_ids)
    assert min(per_activity.values()) >= 20
    # attachés, in every form the issue names, and intent beside occurrence
    texts = [i.text.lower() for i in items if "attaches" in i.activities]
    for word in ("appoint", "accredit", "expel", "adviser", "arriv"):
        assert any(word in t for t in texts), word
    assert statuses["intended"] >= 10


@pytest.mark.parametrize("split", ["dev", "test"])
def test_every_pair_in_our_sets_resolves_in_the_registry_for_its_year(split: str) -> None:
    reg = registry()
    for gold in own_set(split):
        assert gold.date is not None, gold.id
        for pair in gold.pairs:
            assert len(pair) == 2, gold.id
            for member in pair:
                polity = reg.get(member)
                assert polity.id == member, gold.id  # written in the registry's own spelling
                assert polity.existed(gold.date.year), (gold.id, member)
        if events(gold):
            assert gold.pairs, f"{gold.id}: an event without participants"


def test_dev_and_test_share_no_text_and_no_id() -> None:
    def key(text: str) -> str:
        return " ".join(text.lower().split())

    dev, test = own_set("dev"), own_set("test")
    assert not {key(i.text) for i in dev} & {key(i.text) for i in test}
    assert not {i.id for i in dev} & {i.id for i in test}
    assert len({key(i.text) for i in dev}) == len(dev)
    assert len({key(i.text) for i in test}) == len(test)


def test_own_sets_score_perfectly_against_themselves() -> None:
    items = own_set("dev")
    scores = score(items, perfect)
    assert scores.overall.fp == scores.overall.fn == 0
    assert scores.overall.tp == sum(len(i.activities) for i in items if events(i))
    assert scores.pairs.tp == sum(len(i.pairs) for i in items if events(i))
    assert scores.status_accuracy == 1.0


# ---------------------------------------------------------------------------------- loader errors


def write_line(tmp_path: Path, **changes: object) -> Path:
    row: dict[str, object] = {"id": "x-1", "text": "India and Japan held talks.", "date": "2020-01-01",
                              "activities": ["contacts"], "pairs": [["IND", "JPN"]], "status": "occurred",
                              "note": ""}
    row.update(changes)
    path = tmp_path / "mine.jsonl"
    path.write_text(json.dumps(row) + "\n", encoding="utf-8")
    return path


def test_jsonl_defaults_corpus_and_split(tmp_path: Path) -> None:
    [loaded] = load_gold(write_line(tmp_path))
    assert (loaded.corpus, loaded.split, loaded.date) == ("mine", "dev", datetime.date(2020, 1, 1))
    assert loaded.pairs == {frozenset({"IND", "JPN"})}


@pytest.mark.parametrize(("changes", "message"), [
    ({"status": "happened"}, "record 1, field 'status'"),
    ({"activities": ["parades"]}, "'parades' is not a codebook activity"),
    ({"pairs": [["IND", "XXX"]]}, "field 'pairs'"),
    ({"pairs": [["IND", "UKR"]], "date": "1985-01-01"}, "UKR (Ukraine) did not exist in 1985"),
    ({"pairs": [["IND", "IND"]]}, "two different polities"),
    ({"date": "last week"}, "not an ISO date"),
    ({"status": "none"}, "status 'none' means no event"),
    ({"text": " "}, "empty text"),
])
def test_jsonl_bad_rows_name_file_line_and_field(tmp_path: Path, changes: dict[str, object], message: str) -> None:
    with pytest.raises(DefdipError, match="mine.jsonl") as info:
        load_gold(write_line(tmp_path, **changes))
    assert message in str(info.value)
    assert "\n" not in str(info.value)


def test_bad_files_give_one_line_errors(tmp_path: Path) -> None:
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n", encoding="utf-8")
    with pytest.raises(DefdipError, match="empty gold file"):
        load_gold(empty)
    broken = tmp_path / "broken.jsonl"
    broken.write_text('{"id": "a"\n', encoding="utf-8")
    with pytest.raises(DefdipError, match="broken.jsonl, record 1: not JSON"):
        load_gold(broken)
    binary = tmp_path / "binary.jsonl"
    binary.write_bytes(b"\xff\xfe\x00\x81")
    with pytest.raises(DefdipError, match="not a UTF-8 text file"):
        load_gold(binary)
    with pytest.raises(DefdipError, match="no such gold file"):
        load_gold(tmp_path / "absent.jsonl")


# ---------------------------------------------------------------------------------- PLOVER


def test_plover_fixture_is_mapped_year_aware_and_overridden() -> None:
    items = {i.id: i for i in load_gold(FIXTURE)}
    assert "PLOVER-GSR01-DOCUMENT-0001" not in items and len(items) == 6
    assert {i.corpus for i in items.values()} == {"plover"}
    # military aid is equipment provision; DEU is West Germany in 1980 and Germany in 2001
    assert items["TEST-AID-0001"].activities == {"agreements"}
    assert items["TEST-AID-0001"].pairs == {frozenset({"GFR", "TUR"})}
    assert items["TEST-AID-0002"].pairs == {frozenset({"GMY", "LIT"})}  # "diplomatic, military" is military
    # an IGO is resolved by its name; consultations on military matters are contacts
    assert items["TEST-CONSULT-0001"].pairs == {frozenset({"nato", "UKR"})}
    assert items["TEST-CONSULT-0001"].status == "occurred"
    # a non-military context is a negative, and so is combat
    for negative in ("TEST-CONSULT-0002", "TEST-FIGHT-0001"):
        assert (items[negative].status, items[negative].activities, items[negative].pairs) == ("none", set(), set())
    # the reviewed override for this id turns AGREE (no event by the label map) into an intended exercise
    agreed = items["PLOVER-GSR01-AGREE-0004"]
    assert (agreed.activities, agreed.status) == ({"exercises"}, "intended")
    assert agreed.pairs == {frozenset({"OMA", "IND"})}
    for gold in items.values():
        assert gold.split == plover_split(gold.text)


def test_plover_split_is_stable_and_ignores_spacing() -> None:
    assert plover_split("Two navies  met.") == plover_split(" Two navies met. ")
    splits = Counter(plover_split(f"sentence number {n}") for n in range(400))
    assert set(splits) == {"dev", "test"} and min(splits.values()) > 150


def test_plover_tables_have_a_reason_per_row_and_cover_every_event_type() -> None:
    rules = plover_map()
    assert all(rule.reason for rule in rules.values())
    events_in_map = {event for event, _ in rules}
    assert {"AGREE", "AID", "CONSULT", "COOPERATE", "FIGHT", "THREATEN"} <= events_in_map
    assert all(o.reason for o in plover_overrides().values())


def test_plover_repeated_id_numbers_the_later_sentences(tmp_path: Path) -> None:
    records = json.loads(FIXTURE.read_text(encoding="utf-8"))
    again = dict(records[1], text="Another sentence under the same id.")
    path = tmp_path / "plover.txt"
    path.write_text(json.dumps([*records, again, dict(again, text="And a third.")]), encoding="utf-8")
    ids = [i.id for i in load_gold(path)]
    assert len(ids) == len(set(ids)) == 8
    assert ids[-2:] == ["TEST-AID-0001#2", "TEST-AID-0001#3"] and "TEST-AID-0001" in ids


def test_plover_unknown_event_type_is_an_error(tmp_path: Path) -> None:
    records = json.loads(FIXTURE.read_text(encoding="utf-8"))
    records[1]["event"] = "CELEBRATE"
    path = tmp_path / "plover.txt"
    path.write_text(json.dumps(records), encoding="utf-8")
    with pytest.raises(DefdipError, match="record TEST-AID-0001, field 'event': no row in plover_map.csv"):
        load_gold(path)


@pytest.mark.shared
def test_real_plover_file_counts_by_rule(shared_data: Path) -> None:
    path = shared_data / "plover_gsr" / "PLOVER_GSR_CAMEO.txt"
    raw = json.loads(path.read_text(encoding="utf-8"))
    sentences = [r for r in raw if r["event"] != "DOCUMENT"]
    military = {r["id"] for r in sentences if "military" in [c.strip() for c in str(r.get("context")).split(",")]}
    items = load_gold(path)
    assert len(items) == len(sentences) == len({i.id for i in items}) == 322  # one id is given twice there
    assert len(military) == 83
    coded = {i.id for i in items if i.status != "none"}
    assert coded <= military  # only military-related sentences carry engagements
    assert sum(events(i) for i in items) >= 10
    assert set(plover_overrides()) <= {r["id"] for r in sentences}  # every override names a real record
    by_split = Counter(i.split for i in items)
    assert 0.4 < by_split["dev"] / len(items) < 0.6
    texts = {}
    for gold in items:  # the same sentence coded twice stays on one side
        assert texts.setdefault(gold.text, gold.split) == gold.split
    reg = registry()
    for gold in items:
        for pair in gold.pairs:
            assert all(reg.get(m).existed(gold.date.year if gold.date else 2000) for m in pair)


# ---------------------------------------------------------------------------------- scoring


GOLD = [
    item("a", "occurred", {"exercises"}, [("IND", "USA")]),
    item("b", "intended", {"agreements", "contacts"}, [("FRN", "IND")]),
    item("c", "negated", {"agreements"}, [("PAK", "RUS")]),
    item("d", "none", set(), []),
    item("e", "occurred", {"attaches"}, [("RUS", "UKG")]),
]


def test_perfect_predictions_score_one() -> None:
    scores = score(GOLD, perfect)
    assert (scores.overall.tp, scores.overall.fp, scores.overall.fn) == (4, 0, 0)
    assert (scores.overall.precision, scores.overall.recall, scores.overall.f1) == (1.0, 1.0, 1.0)
    assert (scores.pairs.tp, scores.pairs.fp, scores.pairs.fn) == (3, 0, 0)
    assert (scores.status_correct, scores.status_total) == (4, 4)


def test_empty_predictions_find_nothing() -> None:
    scores = score(GOLD, lambda _: [])
    assert (scores.overall.tp, scores.overall.fp, scores.overall.fn) == (0, 0, 4)
    assert scores.overall.precision is None and scores.overall.recall == 0.0 and scores.overall.f1 == 0.0
    assert scores.pairs.fn == 3 and scores.pairs.recall == 0.0
    assert scores.status_correct == 0 and scores.status_accuracy == 0.0
    assert scores.status_confusion[("negated", "none")] == 1


def test_one_false_positive_on_a_negative_sentence() -> None:
    def predict(gold: GoldItem) -> list[Prediction]:
        if gold.id == "d":
            return [Prediction("contacts", frozenset({"CHN", "JPN"}), "occurred")]
        return perfect(gold)

    scores = score(GOLD, predict)
    contacts = scores.activities["contacts"]
    assert (contacts.tp, contacts.fp, contacts.fn) == (1, 1, 0)
    assert contacts.precision == 0.5 and contacts.recall == 1.0 and contacts.f1 == pytest.approx(2 / 3)
    assert scores.overall.precision == 4 / 5
    assert (scores.pairs.tp, scores.pairs.fp) == (3, 1)
    assert scores.status_accuracy == 1.0  # item d has gold status none and is not counted


def test_negation_handling() -> None:
    # occurred on a negated sentence is a false positive; negated on an occurred sentence leaves a false negative
    def predict(gold: GoldItem) -> list[Prediction]:
        if gold.id == "c":
            return [Prediction("agreements", frozenset({"PAK", "RUS"}), "occurred")]
        if gold.id == "a":
            return [Prediction("exercises", frozenset({"IND", "USA"}), "negated")]
        return perfect(gold)

    scores = score(GOLD, predict)
    assert (scores.activities["agreements"].tp, scores.activities["agreements"].fp) == (1, 1)
    assert (scores.activities["exercises"].tp, scores.activities["exercises"].fn) == (0, 1)
    assert (scores.pairs.tp, scores.pairs.fp, scores.pairs.fn) == (2, 1, 1)
    assert scores.status_correct == 2  # b and e right; a said negated, c said occurred
    # a coder that marks the negated sentence as negated is not penalised
    right = score(GOLD, lambda g: [Prediction("agreements", frozenset({"PAK", "RUS"}), "negated")]
                  if g.id == "c" else perfect(g))
    assert right.activities["agreements"].fp == 0 and right.status_accuracy == 1.0


def test_duplicates_case_and_unknown_activities() -> None:
    def predict(gold: GoldItem) -> list[Prediction]:
        if gold.id == "e":  # twice, and with a differently spelt registry id: still one hit
            return [Prediction("attaches", frozenset({"rus", "UKG"}), "occurred"),
                    Prediction("attaches", frozenset({"RUS", "ukg"}), "occurred"),
                    Prediction("parades", None, "occurred")]
        return perfect(gold)

    scores = score(GOLD, predict)
    assert (scores.activities["attaches"].tp, scores.activities["attaches"].fp) == (1, 0)
    assert scores.pairs.fp == 0
    assert scores.activities["parades"].fp == 1 and scores.overall.fp == 1


def test_bad_predictions_are_errors() -> None:
    with pytest.raises(DefdipError, match="item 'a': status 'maybe'"):
        score(GOLD, lambda g: [Prediction("contacts", None, "maybe")])
    with pytest.raises(DefdipError, match="a pair is two different polity ids"):
        score(GOLD, lambda g: [Prediction("contacts", frozenset({"IND"}), "occurred")])
    with pytest.raises(DefdipError, match="item id 'a' appears twice"):
        score([GOLD[0], GOLD[0]], perfect)


def test_table_and_dict() -> None:
    scores = score(GOLD, lambda g: perfect(g) if g.id != "b" else [])
    table = scores.table()
    assert list(table.index) == [*codebook().activity_ids, "all", "pairs"]
    assert list(table.columns) == ["gold", "predicted", "tp", "precision", "precision 95%", "recall", "recall 95%",
                                   "f1", "f1 95%"]
    assert table.loc["agreements", "gold"] == 1 and table.loc["agreements", "tp"] == 0
    assert table.loc["agreements", "predicted"] == 0
    assert table.loc["all", "recall"] == pytest.approx(2 / 4)
    assert table.loc["pairs", "gold"] == 3 and table.loc["pairs", "predicted"] == 2
    assert table["precision"].isna().sum() == 2  # agreements and contacts: nothing predicted
    assert table.loc["contacts", "precision 95%"] == ""  # and so no interval either
    data = json.loads(json.dumps(scores.as_dict()))
    assert data["all"]["tp"] == 2 and data["activities"]["contacts"]["precision"] is None
    assert data["activities"]["contacts"]["precision_ci"] is None
    assert (data["all"]["gold"], data["all"]["predicted"]) == (4, 2)
    assert data["status"]["total"] == 4 and data["items"] == 5
    assert data["intervals"] == {"method": "percentile bootstrap over sentences", "confidence": 0.95,
                                 "resamples": 1000, "seed": BOOTSTRAP_SEED}


# ---------------------------------------------------------------------------------- uncertainty

# A small gold file in the style of the news the coder reads: events of every activity, a negated one, trade and
# civil visits that are no events, a third state standing by. Some of these the coder gets wrong, as on any text.
SMALL = [
    ("s01", "Indian and Japanese navies held a joint exercise in the Arabian Sea on 3 May 2021.", "2021-05-04",
     ["exercises"], [["IND", "JPN"]], "occurred"),
    ("s02", "The defence ministers of Australia and Indonesia signed a defence cooperation agreement in Jakarta.",
     "2019-02-11", ["agreements"], [["AUL", "INS"]], "occurred"),
    ("s03", "Vietnam appointed a new defence attache to Moscow last month.", "2020-09-10", ["attaches"],
     [["DRV", "RUS"]], "occurred"),
    ("s04", "The foreign ministers of Brazil and Argentina discussed soybean exports in Buenos Aires.", "2018-03-01",
     [], [], "none"),
    ("s05", "France and India did not hold their annual naval exercise this year.", "2020-12-01", ["exercises"],
     [["FRN", "IND"]], "negated"),
    ("s06", "The US Defense Secretary met his South Korean counterpart in Seoul to discuss troop levels.",
     "2019-08-09", ["contacts"], [["ROK", "USA"]], "occurred"),
    ("s07", "Egypt will take delivery of Rafale jets from France next year.", "2021-05-05", ["agreements"],
     [["EGY", "FRN"]], "intended"),
    ("s08", "China's prime minister visited Pakistan for trade talks.", "2018-04-02", [], [], "none"),
    ("s09", "Thai and American soldiers trained together during Cobra Gold in February 2022.", "2022-02-28",
     ["exercises"], [["THI", "USA"]], "occurred"),
    ("s10", "The army chiefs of Chile and Peru met in Lima, with the Bolivian envoy looking on from the gallery.",
     "2017-06-06", ["contacts"], [["CHL", "PER"]], "occurred"),
    ("s11", "Soldiers from Kenya and Uganda shared a border post during the flood relief operation.", "2020-05-01",
     ["contacts"], [["KEN", "UGA"]], "occurred"),
    ("s12", "Kenya expelled the Somali military attache on Tuesday.", "2021-03-03", ["attaches"], [["KEN", "SOM"]],
     "occurred"),
]


def write_small(tmp_path: Path, copies: int = 1) -> Path:
    """The small gold file, its sentences repeated ``copies`` times under fresh ids."""
    path = tmp_path / f"small-{copies}.jsonl"
    lines = [json.dumps({"id": f"{item_id}-{copy}", "text": text, "date": date, "activities": activities,
                         "pairs": pairs, "status": status})
             for copy in range(copies) for item_id, text, date, activities, pairs, status in SMALL]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def width(bounds: tuple[float, float] | None) -> float:
    assert bounds is not None
    return bounds[1] - bounds[0]


def test_intervals_on_a_small_realistic_file_hold_the_estimate_narrow_with_more_items_and_repeat(
        tmp_path: Path) -> None:
    once = evaluate(write_small(tmp_path))
    four = evaluate(write_small(tmp_path, copies=4))
    for scores in (once, four):
        for name, counts in scores.scopes():
            for measure in ("precision", "recall", "f1"):
                value, bounds = getattr(counts, measure), scores.intervals[name][measure]
                if value is None:
                    assert bounds is None, (name, measure)
                    continue
                assert bounds is not None and 0.0 <= bounds[0] <= value <= bounds[1] <= 1.0, (name, measure)
    # the same sentences four times over: the same estimates on four times the items, and narrower intervals
    assert (four.overall.gold, four.pairs.predicted) == (4 * once.overall.gold, 4 * once.pairs.predicted)
    for name in ("all", "pairs"):
        for measure in ("precision", "recall", "f1"):
            assert getattr(dict(four.scopes())[name], measure) == pytest.approx(
                getattr(dict(once.scopes())[name], measure))
            if width(once.intervals[name][measure]) > 0:
                assert width(four.intervals[name][measure]) < width(once.intervals[name][measure]), (name, measure)
            else:
                assert width(four.intervals[name][measure]) == 0
    # a dozen sentences leave the micro interval wide; the table says so beside the counts
    assert width(once.intervals["all"]["f1"]) > 0.1 or once.overall.f1 == 1.0
    table = once.table()
    assert table.loc["all", "gold"] == 9 and table.loc["pairs", "gold"] == 9
    # the same file scored again prints the same intervals, to the last digit
    again = evaluate(write_small(tmp_path))
    assert again.intervals == once.intervals
    assert again.table().equals(table)


def test_intervals_narrow_with_items_for_a_coder_with_known_errors() -> None:
    """An imperfect coder whose errors do not depend on the rules: every third event missed, a false alarm on
    every negative. Twenty times the items give an interval about a fifth as wide (the root of twenty is 4.5)."""
    def make(copies: int) -> list[GoldItem]:
        return [item(f"{g.id}-{n}", g.status, set(g.activities), [tuple(p) for p in g.pairs])
                for n in range(copies) for g in GOLD]

    def flawed(gold: GoldItem) -> list[Prediction]:
        if gold.status == "none":
            return [Prediction("contacts", frozenset({"CHN", "JPN"}), "occurred")]
        return [] if gold.id.startswith("a-") else perfect(gold)

    small, large = score(make(2), flawed), score(make(40), flawed)
    assert small.overall.precision == large.overall.precision == pytest.approx(3 / 4)
    for measure in ("precision", "recall", "f1"):
        ratio = width(large.intervals["all"][measure]) / width(small.intervals["all"][measure])
        assert 0.1 < ratio < 0.4, (measure, ratio)


def test_bootstrap_draws_sentences_and_is_fast() -> None:
    # one scope, 300 sentences: 240 right, 30 false alarms, 30 misses
    counts = np.zeros((300, 1, 3), dtype=np.int64)
    counts[:240, 0, 0] = 1
    counts[240:270, 0, 1] = 1
    counts[270:, 0, 2] = 1
    started = time.perf_counter()
    [bounds] = bootstrap_intervals(counts)
    assert time.perf_counter() - started < 0.25
    low, high = bounds["precision"]
    assert low < 240 / 270 < high
    # the binomial standard error of 240/270 is 0.019: the 95% interval is about four of them wide
    assert 0.05 < high - low < 0.10
    assert bootstrap_intervals(counts) == [bounds]  # a fixed seed
    assert bootstrap_intervals(counts, seed=1) != [bounds]
    # no prediction in any sentence: no precision, and no interval
    assert bootstrap_intervals(np.zeros((5, 1, 3), dtype=np.int64)) == [
        {"precision": None, "recall": None, "f1": None}]
    nothing = dict.fromkeys(("precision", "recall", "f1"))
    assert bootstrap_intervals(np.zeros((0, 2, 3), dtype=np.int64)) == [nothing, nothing]
