"""Write an evaluation report: report.json, report.md (Table-3 layout), predictions.jsonl, plots."""

import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from sklearn.metrics import precision_recall_curve

from models.files import atomic_path, write_json_atomic

SHORT = {"Animation": "Anim.", "Biography": "Bio.", "Thriller": "Thrill.", "Romance": "Rom.",
         "Fantasy": "Fant.", "Mystery": "Myst.", "Comedy": "Com."}


def write_report(out: Path, report: dict, predictions: list[dict]) -> None:
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    write_json_atomic(out / "report.json", report)
    with atomic_path(out / "report.md") as tmp:
        tmp.write_text(markdown_table(report))
    with atomic_path(out / "predictions.jsonl") as tmp:
        tmp.write_text("".join(json.dumps(p) + "\n" for p in predictions))
    plot_pr_curves(out / "pr_curves.png", predictions, report["genres"])
    plot_modality_map(out / "modality_map.png", report)


def markdown_table(report: dict) -> str:
    """Percentages, one column per genre, then mAP / uAP / sAP, as in the paper's Table 3."""
    genres = report["genres"]
    head = ["model"] + [SHORT.get(g, g) for g in genres] + ["mAP", "uAP", "sAP", "coverage"]
    lines = [
        f"# Genre classification, {report['split']} split ({report['n_movies']} movies)", "",
        "Average precision in % (scikit-learn). uAP = micro, sAP = samples. Coverage = movies with the row's input.",
        "", "| " + " | ".join(head) + " |", "|" + "---|" * len(head),
        "| % of training samples | " + " | ".join(_pct(report["train_share"][g]) for g in genres) + " | | | | |",
    ]
    for row in report["rows"] + [dict(report["prior"], name="Baseline (prior)")]:
        name = row["name"] + (" (missing)" if row.get("missing") else "")
        cells = [_pct(row["per_genre_ap"][g]) for g in genres]
        cells += [_pct(row["map"]), _pct(row["micro_ap"]), _pct(row["samples_ap"]), str(row["coverage"])]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    lines += ["", f"Serving models: {', '.join(f'{m} = {n}' for m, n in report['serving_models'].items())}.", ""]
    lines += _left_out_notes(report) + _ceiling_notes(report) + _feature_notes(report)
    return "\n".join(lines)


def _left_out_notes(report: dict) -> list[str]:
    """The genres and models training left out, and why (never silently)."""
    lines = []
    if report.get("left_out_genres"):
        shown = ", ".join(f"{g} ({n})" for g, n in report["left_out_genres"].items())
        lines.append(f"Genres left out (too few training movies; their count): {shown}.")
    for name, why in (report.get("skipped_models") or {}).items():
        lines.append(f"Model {name}: {why}.")
    return lines + [""] if lines else []


def _ceiling_notes(report: dict) -> list[str]:
    """Each model row's mAP as a share of its modality's ceiling row (synthetic benchmark only)."""
    ceilings = {r["modalities"][0] if len(r["modalities"]) == 1 else "all": r["map"]
                for r in report["rows"] if r["name"].endswith("(ceiling)") and r["map"]}
    if not ceilings:
        return []
    lines = ["Ceiling rows: an oracle that knows which genres the synthetic benchmark planted in each modality",
             "scores a genre by the number of the row's modalities it was planted in. Share of the ceiling (mAP):", ""]
    for row in report["rows"]:
        key = "all" if row["name"].startswith("all (") else (row["modalities"] or [None])[0]
        if not row["name"].endswith("(ceiling)") and "+" not in row["name"] and row["map"] and key in ceilings:
            lines.append(f"- {row['name']}: {row['map'] / ceilings[key]:.2f}")
    return lines + [""]


def _feature_notes(report: dict) -> list[str]:
    """What each model read: its preprocessing, and the backbone with the SHA-256 of its weights."""
    features = report.get("features") or {}
    lines = ["Features:", ""] if features else []
    for name, described in features.items():
        backbone = described.get("backbone")
        params = ", ".join(f"{k}={v}" for k, v in described.get("params", {}).items() if k != "weights_path")
        extractor = ""
        if backbone:
            weights = f"ImageNet weights SHA-256 {backbone['weights_sha256']}" if backbone.get("pretrained") \
                else "no pretrained weights (seeded random initialisation)"
            extractor = f"{backbone['name']} ({weights}); "
        elif described.get("sentence_model"):
            extractor = f"{described['sentence_model']} (weights SHA-256 {described['weights_sha256']}); "
        if described.get("reads"):
            extractor += f"reads {' + '.join(described['reads'])}; "
        lines.append(f"- {name}: {extractor}{params or 'no preprocessing parameters'}")
    return lines + ([""] if lines else [])


def plot_pr_curves(path: Path, predictions: list[dict], genres: list[str]) -> None:
    y = np.array([[g in p["genres"] for g in genres] for p in predictions], dtype=int).reshape(-1, len(genres))
    s = np.array([[p["scores"]["fused"][g] for g in genres] for p in predictions]).reshape(-1, len(genres))
    fig, ax = plt.subplots(figsize=(8, 6))
    for i, genre in enumerate(genres):
        if y[:, i].any():
            precision, recall, _ = precision_recall_curve(y[:, i], s[:, i])
            ax.plot(recall, precision, label=genre, linewidth=1.2)
    ax.set(xlabel="recall", ylabel="precision", title="Fused scores: precision-recall per genre", xlim=(0, 1), ylim=(0, 1.02))
    ax.legend(fontsize=7, ncol=2, loc="lower left")
    _save(fig, path)


def plot_modality_map(path: Path, report: dict) -> None:
    rows = [r for r in report["rows"] if r["map"] is not None]
    fig, ax = plt.subplots(figsize=(8, 0.4 * len(rows) + 1.5))
    ax.barh([r["name"] for r in rows], [r["map"] for r in rows], color="tab:blue")
    ax.axvline(report["prior"]["map"], color="grey", linestyle="--", label="prior")
    ax.invert_yaxis()
    ax.set(xlabel="mAP", title=f"mAP per model ({report['split']} split)", xlim=(0, 1))
    ax.legend(loc="lower right")
    _save(fig, path)


def _save(fig, path: Path) -> None:
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=110)
    plt.close(fig)


def _pct(value) -> str:
    return "–" if value is None else f"{100 * value:.1f}"
