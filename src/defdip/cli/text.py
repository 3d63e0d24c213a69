"""`defdip code`: coding defence diplomacy from text (see defdip.text)."""

from __future__ import annotations

import datetime
from enum import Enum
from pathlib import Path

import typer

from defdip.cli.app import app, console, emit, err_console, print_json
from defdip.core.errors import DefdipError


class CodeFmt(str, Enum):
    table = "table"
    json = "json"
    csv = "csv"


def _date_option(value: str | None) -> datetime.date | None:
    from defdip.text.documents import parse_document_date

    try:
        return parse_document_date(value)
    except ValueError as exc:
        raise DefdipError(f"--date: {exc}") from None


@app.command("code", rich_help_panel="Text")
def code(
    inputs: list[str] = typer.Argument(None, help="Files, folders or - (stdin): text, Markdown, HTML, CSV or JSONL "
                                       "of documents with optional id, title, date, source and url columns."),
    output: Path | None = typer.Option(None, "-o", "--output", help="Review file to write: .yaml (user records, a "
                                       ".bib beside it; defdip build --records takes it) or .csv."),
    date: str | None = typer.Option(None, "--date", help="Date of documents that carry none (YYYY-MM-DD); "
                                    "relative dates such as 'next month' are resolved against it."),
    evaluate: Path | None = typer.Option(None, "--evaluate", help="Score the coder on a gold file (defdip JSONL or "
                                         "the PLOVER records) instead of coding INPUTS."),
    corpus: str | None = typer.Option(None, "--corpus", help="With --evaluate: only this corpus of the gold file."),
    split: str | None = typer.Option(None, "--split", help="With --evaluate: only this split (dev or test)."),
    fmt: CodeFmt = typer.Option(CodeFmt.table, "--format", "-f", help="table, json or csv (stdout)."),
) -> None:
    """Code documents into candidate engagements with their evidence, for review and `build --records`."""
    if evaluate is not None:
        if inputs:
            raise DefdipError("--evaluate scores the coder on a gold file; give no INPUTS with it")
        from defdip.text.scoring import evaluate as run

        scores = run(evaluate, corpus=corpus, split=split)
        if fmt is CodeFmt.json:
            print_json(scores.as_dict())
            return
        frame = scores.table().reset_index()
        emit(frame, fmt.value, title=f"{evaluate.name}: {scores.items} sentences")
        if fmt is CodeFmt.table and scores.status_accuracy is not None:
            console.print(f"status accuracy {scores.status_accuracy:.3f} ({scores.status_correct}/"
                          f"{scores.status_total} sentences with a gold status)", highlight=False)
        return
    if not inputs:
        raise DefdipError("give a file, a folder or - (stdin) to code, or --evaluate GOLD")
    from defdip.text.coder import code_documents
    from defdip.text.documents import read_documents
    from defdip.text.review import candidate_rows, split_candidates, write_review

    documents, notices = read_documents(inputs, date=_date_option(date))
    for notice in notices:
        err_console.print(f"[yellow]{'skipped' if notice.skipped else 'note'}:[/] {notice.source}: "
                          f"{notice.message}", highlight=False, soft_wrap=True)
    if not documents:
        raise DefdipError("no document to code (every input was empty or unreadable)")
    result = code_documents(documents)
    if output is not None:
        paths = write_review(result, output)
        keep, flagged = split_candidates(result)
        console.print(f"coded {len(documents):,} documents: {len(keep):,} records, {len(flagged):,} flagged "
                      f"(negated, hypothetical, cancelled or undated), {len(result.uncoded):,} uncoded sentences; "
                      f"wrote {', '.join(map(str, paths))}", highlight=False)
        return
    rows = candidate_rows(result)
    columns = (["document", "sentence_index", "status", "activity", "participants", "name", "year", "confidence",
                "rule"] if fmt is CodeFmt.table else None)
    emit(rows, fmt.value, title=f"{len(documents):,} documents, {len(rows):,} candidates", columns=columns)
