"""``invigilator eval``: precision/recall per violation and latency per detector.

Exit status: 0 when the set ran (whatever the scores), 2 for an unreadable set or invalid
configuration. Scores are reported, not judged: what is good enough is the site's decision.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import click

from plugins.evaluation.manifest import ManifestError, load_manifest
from webapp.cli import config_errors_exit


def _ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def _print(report: dict[str, Any]) -> None:
    click.echo(f"{'VIOLATION':<18} {'LABELS':>6} {'FOUND':>6} {'PREDICTED':>9} {'RIGHT':>6}"
               f" {'PRECISION':>9} {'RECALL':>6}")  # fmt: skip
    for kind, row in report["violations"].items():
        click.echo(
            f"{kind:<18} {row['labels']:>6} {row['found']:>6} {row['predicted']:>9} "
            f"{row['right']:>6} {_ratio(row['precision']):>9} {_ratio(row['recall']):>6}"
        )
    click.echo(f"\n{'DETECTOR':<12} {'CALLS':>6} {'MEAN MS':>8} {'P95 MS':>8}")
    for name, row in report["detectors"].items():
        click.echo(f"{name:<12} {row['calls']:>6} {row['mean_ms']:>8.2f} {row['p95_ms']:>8.2f}")
    for name, reason in report["failed"].items():
        click.secho(f"not run: {name}: {reason}", fg="yellow")
    if report["labelled_but_not_run"]:
        click.echo(f"labelled, detector not run: {', '.join(report['labelled_but_not_run'])}")
    if report["unscored_violations"]:
        other = ", ".join(f"{k} x{n}" for k, n in report["unscored_violations"].items())
        click.echo(f"violations of kinds the set does not label: {other}")
    click.echo("\nCLIP                         VIOLATIONS (kind start-end s)  | LABELS")
    for clip in report["clips"]:
        seen = " ".join(f"{v['kind']} {v['start']:g}-{v['end']:g}" for v in clip["violations"])
        truth = " ".join(f"{lb['kind']} {lb['start']:g}-{lb['end']:g}" for lb in clip["labels"])
        click.echo(f"{clip['name']:<28} {seen or '-'}  | {truth or '-'}")


@click.command("eval")
@click.option(
    "--set",
    "set_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder with manifest.json/.toml; default: generate the built-in set.",
)
@click.option("--detector", "only", multiple=True, help="Run only these detectors (repeatable).")
@click.option("--clip", "clips", multiple=True, help="Run only these clips (repeatable).")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@config_errors_exit
def evaluate(
    set_dir: Path | None, only: tuple[str, ...], clips: tuple[str, ...], as_json: bool
) -> None:
    """Run the enabled detectors and the rules over a labelled set; print precision/recall."""
    from plugins.evaluation import builtin, runner  # noqa: PLC0415 (heavy imports)

    with tempfile.TemporaryDirectory(prefix="invigilator-eval-") as tmp:
        folder = set_dir if set_dir is not None else builtin.build(Path(tmp), set(clips) or None)
        try:
            manifest = load_manifest(folder)
        except ManifestError as error:
            raise click.ClickException(str(error)) from error
        if clips:
            unknown = sorted(set(clips) - {c.name for c in manifest.clips})
            if unknown:
                raise click.UsageError(f"unknown clip(s): {', '.join(unknown)}")
            manifest.clips = [c for c in manifest.clips if c.name in clips]
        detectors, failed = runner.build_detectors(only)
        say = None if as_json else (lambda name: click.echo(f"clip {name} ...", err=True))
        report = runner.evaluate(folder, manifest, detectors, failed, say)
        report["set"] = "built-in" if set_dir is None else str(set_dir)
    if as_json:
        click.echo(json.dumps(report, indent=2))
    else:
        _print(report)
