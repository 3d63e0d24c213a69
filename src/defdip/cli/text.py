"""`defdip code`: coding defence diplomacy from text (see defdip.text)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import typer

from defdip.cli.app import (
    PANEL_TEXT,
    Fmt,
    app,
    check_day_text,
    console,
    emit,
    err_console,
    format_option,
    output_option,
    print_json,
)
from defdip.core.errors import DefdipError


@app.command("code", rich_help_panel=PANEL_TEXT)
def code(
    inputs: list[str] = typer.Argument(None, help="Files, folders or - (stdin): text, Markdown, HTML, CSV or JSONL "
                                       "of documents with optional id, title, date, source and url columns."),
    output: Path | None = output_option("Review file to write: .yaml (user records, a .bib beside it; "
                                        "defdip build --records takes it) or .csv."),
    day: date | None = typer.Option(None, "--date", parser=check_day_text, metavar="YYYY-MM-DD",
                                    help="Date of documents that carry none; relative dates such as 'next month' "
                                    "are resolved against it."),
    evaluate: Path | None = typer.Option(None, "--evaluate", help="Score the coder on a gold file (defdip JSONL or "
                                         "the PLOVER records) instead of coding INPUTS."),
    corpus: str | None = typer.Option(None, "--corpus", help="With --evaluate: only this corpus of the gold file."),
    split: str | None = typer.Option(None, "--split", help="With --evaluate: only this split (dev or test)."),
    fmt: Fmt = format_option(),
) -> None:
    """Code documents into candidate engagements with their evidence, for review and `build --records`."""
    if evaluate is not None:
        if inputs:
            raise DefdipError("--evaluate scores the coder on a gold file; give no INPUTS with it")
        from defdip.text.scoring import evaluate as run

        scores = run(evaluate, corpus=corpus, split=split)
        if fmt is Fmt.json:
            print_json(scores.as_dict())
            return
        emit(scores.table().reset_index(), fmt, title=f"{evaluate.name}: {scores.items} sentences")
        if fmt is Fmt.table and scores.status_accuracy is not None:
            console.print(f"status accuracy {scores.status_accuracy:.3f} ({scores.status_correct}/"
                          f"{scores.status_total} sentences with a gold status)", highlight=False)
        return
    if not inputs:
        raise DefdipError("give a file, a folder or - (stdin) to code, or --evaluate GOLD")
    from defdip.text.coder import code_documents
    from defdip.text.documents import read_documents
    from defdip.text.review import candidate_rows, split_candidates, write_review

    documents, notices = read_documents(inputs, date=day)
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
                "rule"] if fmt is Fmt.table else None)
    emit(rows, fmt, title=f"{len(documents):,} documents, {len(rows):,} candidates", columns=columns)
