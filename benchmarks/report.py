"""BENCHMARKS.md from a results dict (benchmarks/results/latest.json)."""

from pathlib import Path

TARGETS = "p50 within 1.3x of the floor; at least 5x faster than the authors' style; service peak RSS < 2.5 GB; fusion re-fit < 10 s"


def write_markdown(r: dict, path: Path) -> None:
    m, t, s = r["machine"], r["training"], r["service"]
    lines = [
        "# Benchmarks", "",
        (f"Run {r['started']} on {m['cores']} cores, {m['cpu']}, GPU: {m['gpu']} (torch {m['torch']}, "
         f"{m['torch_threads']} threads). Produced by `make bench` (`python -m benchmarks.run`); raw numbers in "
         "`benchmarks/results/latest.json`."), "",
        f"Targets: {TARGETS}.", "",
        "## Prediction latency (reference bundle: 120 s 1280x720 H.264 trailer + poster + plot + metadata)", "",
        "| measure | ms | ratio |", "|---|---|---|",
        f"| service p50 over HTTP ({s['requests']} requests after warm-up) | {s['latency_ms']['p50']:.0f} | |",
        f"| service p95 | {s['latency_ms']['p95']:.0f} | |",
        (f"| floor (same model: sampled-frame decode + audio extraction + one forward pass each) | "
         f"{r['floor_ms']['total']:.0f} | p50 / floor = **{r['ratios']['p50_over_floor']:.2f}x** |"),
        (f"| authors' style (1 fps JPEGs on disk, CNN frame by frame, librosa load) | "
         f"{r['authors_style_ms']['total']:.0f} | authors / p50 = **{r['ratios']['authors_over_p50']:.1f}x** |"),
        "", "Per stage (service, median ms): " + ", ".join(f"{k} {v:.0f}" for k, v in s["stages_ms_median"].items()),
        "", "Floor parts (ms): " + ", ".join(f"{k} {v:.0f}" for k, v in r["floor_ms"].items()),
        "", "Authors' style parts (ms): " + ", ".join(f"{k} {v:.0f}" for k, v in r["authors_style_ms"].items()),
        "", "## Throughput", "", "| concurrent clients | requests/min | requests | errors |", "|---|---|---|---|",
    ]
    for clients, row in s["throughput"].items():
        lines.append(f"| {clients} | {row['requests_per_minute']:.1f} | {row['requests']} | {row['errors']} |")
    lines += [
        "", f"## Training (`moviescope synth --n {t['n_movies']}` then `moviescope train`, default CPU profile)", "",
        *_training_lines(t),
        "", "## Memory", "",
        f"- service peak RSS with all models loaded, after the runs above: {s['peak_rss_mb']:.0f} MB",
        f"- training job peak RSS: {t['train_peak_rss_mb']:.0f} MB" if "train_peak_rss_mb" in t else "", "",
    ]
    path.write_text("\n".join(lines))


def _training_lines(t: dict) -> list[str]:
    lines = []
    if t.get("reused"):
        lines.append("- reused an existing artifact (`--reuse`): stage times below are the ones it recorded")
    else:
        lines += [f"- synth: {t['synth_s']:.0f} s; train (features + all models + fusion + report): {t['train_s']:.0f} s",
                  f"- re-training everything from the feature cache: {t['retrain_from_cache_s']:.0f} s"]
    lines.append("- stages (s): " + ", ".join(f"{k} {v:.0f}" for k, v in t["stages_s"].items()))
    if t.get("trailers_per_minute"):
        lines.append(f"- video stage throughput: {t['trailers_per_minute']:.0f} trailers/min (feature extraction "
                     "plus fitting its head)")
    lines.append(f"- re-fitting the fusion and thresholds from cached features alone: {t['refit_fusion_s']:.1f} s")
    return lines
