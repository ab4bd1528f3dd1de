"""``docval`` commands of the extractors package."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from docval.settings import Settings
    from extractors.evaluate import LabelledDocument

__all__ = ["register"]


def samples(
    folder: Annotated[Path, typer.Argument(help="Folder to write the sample files into (e.g. the inbox).")],
    count: Annotated[int, typer.Option(min=1, help="How many files; the first 14 are the defect set.")] = 16,
    seed: Annotated[int, typer.Option(help="Same seed, same bytes.")] = 20261125,
    truth: Annotated[
        Path | None, typer.Option(help="Ground-truth JSON; default <FOLDER>.truth.json beside the folder.")
    ] = None,
) -> None:
    """Write synthetic invoices and KYC forms (clean and defective) with their ground truth."""
    from extractors.samples import write_sample_inbox

    truth_file = truth or folder.parent / f"{folder.name}.truth.json"
    docs = write_sample_inbox(folder, count=count, seed=seed, truth_file=truth_file)
    typer.echo(f"wrote {len(docs)} sample files to {folder} (ground truth: {truth_file})")


def eval_command(
    dataset: Annotated[
        Path | None, typer.Argument(help="Corpus folder with index.json (invoice2data) or ground_truth.json.")
    ] = None,
    tiers: Annotated[
        str,
        typer.Option(
            help="rules: rules tier only; routed: with the configured model tiers, printed beside rules-only."
        ),
    ] = "rules",
    gate: Annotated[bool, typer.Option(help="Exit 1 when a field's accuracy drops more than the margin.")] = False,
    einvoice: Annotated[bool, typer.Option(help="Use embedded e-invoice XML (off to score the text tiers).")] = True,
    baseline: Annotated[Path | None, typer.Option(help="Baseline JSON; default under data_dir/eval/.")] = None,
    update_baseline: Annotated[bool, typer.Option(help="Store this run as the new baseline.")] = False,
    corrections: Annotated[
        bool, typer.Option(help="Score against reviewers' corrections (vault labels) on the stored originals.")
    ] = False,
) -> None:
    """Per-field precision/recall/accuracy of extraction on a labelled corpus, with a regression gate."""
    from docval.settings import load_settings
    from extractors.evaluate import compare_to_baseline, evaluate, load_dataset, load_report, report_path, save_report

    if tiers not in ("rules", "routed"):
        raise typer.BadParameter("--tiers must be 'rules' or 'routed'")
    if (dataset is None) != corrections:
        raise typer.BadParameter("give a corpus folder or --corrections (one of the two)")
    settings = load_settings()
    name, documents = load_dataset(dataset) if dataset is not None else _corrections(settings)
    if not documents:
        typer.echo(f"{name}: nothing to score")
        return
    report = evaluate(name, documents, settings, routed=tiers == "routed", einvoice=einvoice)
    typer.echo(f"{report.dataset}: {report.documents} documents, tiers={report.tiers}, einvoice={report.einvoice}")
    typer.echo(report.table())
    if report.tiers == "routed":  # the same corpus rules-only, so the model tiers' gain is read off one run
        rules = evaluate(name, documents, settings, routed=False, einvoice=einvoice)
        typer.echo(
            f"side by side: rules-only (a) {rules.overall['accuracy']:.1%} (b) {rules.printed_overall['accuracy']:.1%}"
            f" | routed (a) {report.overall['accuracy']:.1%} (b) {report.printed_overall['accuracy']:.1%}"
            f" ({report.model_calls} model calls)"
        )
    for note in report.notes:
        typer.echo(f"note: {note}")
    save_report(report, report_path(settings, report, "last"))
    baseline_file = baseline or report_path(settings, report, "baseline")
    if update_baseline or not baseline_file.exists():
        save_report(report, baseline_file)
        typer.echo(f"baseline stored: {baseline_file}")
        return
    margin = settings.extract.router.eval_margin
    regressions = compare_to_baseline(report, load_report(baseline_file), margin)
    for regression in regressions:
        typer.echo(f"regression: {regression}")
    if gate and regressions:
        typer.echo(f"gate failed: {len(regressions)} field(s) dropped more than {margin:.0%}", err=True)
        raise typer.Exit(1)
    typer.echo(f"gate passed against {baseline_file}" if gate else f"compared with {baseline_file}")


def _corrections(settings: Settings) -> tuple[str, list[LabelledDocument]]:
    """Reviewers' corrections (truth labels in the PII vault) on the originals still kept; says what is left out."""
    from extractors.corrections import CORRECTIONS, corrections_dataset
    from pii.engine import PiiEngine

    labels = PiiEngine.from_settings(settings).vault.labels()
    documents, gone = corrections_dataset(settings, labels)
    if not labels:
        typer.echo("no reviewer corrections in the vault yet (or their data subjects were erased)")
    if gone:
        typer.echo(f"{gone} corrected document(s) left out: their original is no longer kept (retention)")
    return CORRECTIONS, documents


def register(app: typer.Typer) -> None:
    app.command()(samples)
    app.command(name="eval")(eval_command)
