"""The real-films benchmark's BENCHMARKS.md section (results/real_films-*.json, from benchmarks/real_films.py)."""

from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"
# the paper's Table 3, metadata row (XGBoost on IMDB-5000): other films, other fields
PAPER_METADATA = {"map": 0.543, "micro_ap": 0.629, "samples_ap": 0.737}
METRICS = ("map", "micro_ap", "samples_ap")


def real_film_results() -> list[Path]:
    return sorted(RESULTS.glob("real_films-*.json"))


def real_films_lines(r: dict) -> list[str]:
    m, runs = r["machine"], r["runs"]
    first = runs[0]
    seeds = ", ".join(str(s) for s in r["seeds"])
    times = "; ".join(f"seed {x['seed']}: import {x['import_s']:.0f} s, train {x['train_s'] / 60:.1f} min" for x in runs)
    left_out = ", ".join(f"{g} ({n} training films)" for g, n in first["left_out"].items()) or "none"
    lines = [
        f"## Results on real films ({r['genres']} genres)", "",
        (f"`python benchmarks/real_films.py --genres {r['genres']}`, run {r['started']} on {m['cores']} cores "
         f"({m['cpu']}), {r['wall_s'] / 60:.1f} min ({times}). Per split seed ({seeds}): `moviescope import "
         "movielens` (MovieLens genres, IMDB metadata from ggplot2movies, audience factors from MovieLens' "
         f"ratings), then `moviescope train` with the defaults; {first['n_test']} test films per seed, "
         f"{len(first['genres'])} genres (left out for too few training films: {left_out}). Served models: "
         + ", ".join(f"{k}: `{v}`" for k, v in first["serving"].items())
         + ". mAP / uAP / sAP on the test split: mean over seeds [min, max]."), "",
        "| target | measured (mean) | |", "|---|---|---|",
        *(_target_line(t) for t in r["targets"]), "",
        "| model | mAP | uAP | sAP |", "|---|---|---|---|",
    ]
    for name, row in r["rows"].items():
        lines.append(f"| {name} | " + " | ".join(_range(row[k]) for k in METRICS) + " |")
    lines.append("| paper, metadata (XGBoost on IMDB-5000: other films, more fields) | "
                 + " | ".join(f"{PAPER_METADATA[k]:.3f}" for k in METRICS) + " |")
    lines += ["", "Per genre AP, seed " + str(first["seed"]) + ":", "",
              "| genre | " + " | ".join(first["per_genre"]) + " |",
              "|---|" + "---|" * len(first["per_genre"])]
    for genre in first["genres"]:
        lines.append(f"| {genre} | " + " | ".join(_ap(aps.get(genre)) for aps in first["per_genre"].values()) + " |")
    return lines + [""]


def _target_line(t: dict) -> str:
    if "below" in t:
        value = "none below" if not t["below"] else ", ".join(t["below"])
        return f"| {t['row']}: {t['metric']} | {value} | {'met' if t['met'] else '**missed**'} |"
    return f"| {t['row']} {t['metric']} >= {t['target']:.2f} | {t['mean']:.3f} | {'met' if t['met'] else '**missed**'} |"


def _range(spread: dict) -> str:
    return f"{spread['mean']:.3f} [{spread['min']:.3f}, {spread['max']:.3f}]"


def _ap(value: float | None) -> str:
    return "" if value is None else f"{value:.3f}"
