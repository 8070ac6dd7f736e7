"""benchmarks/gpu.sh's results: its goals, a short summary, and its BENCHMARKS.md section."""

from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"
GPU, DRY_RUN = RESULTS / "gpu.json", RESULTS / "gpu-dryrun-cpu.json"
P50_GOAL_MS, BATCH_GOAL_PER_MIN = 150, 600


def goals(r: dict) -> list[tuple[str, str, bool]]:
    p50, rate = r["service"]["predict"]["server_p50_ms"], r["batch"]["trailers_per_minute"]
    return [(f"reference bundle /v1/predict p50 under {P50_GOAL_MS} ms of server time", f"{p50:.0f} ms",
             p50 < P50_GOAL_MS),
            (f"batch prediction at {BATCH_GOAL_PER_MIN} or more trailers a minute", f"{rate:.0f}",
             rate >= BATCH_GOAL_PER_MIN)]


def summary(r: dict) -> dict:
    s = r["service"]
    return {"device": r["device"], "goals": goals(r), "train_s": r["training"]["train_s"],
            "predict": {k: v for k, v in s["predict"].items() if k != "stages_ms_median"},
            "explain_server_p50_ms": s["explain"]["server_p50_ms"], "lstm_explain": r["lstm_explain"],
            "batch": r["batch"], "wall_s": r["wall_s"]}


def gpu_lines(r: dict) -> list[str]:
    m, t, s, b = r["machine"], r["training"], r["service"], r["batch"]
    on_gpu = r["device"] == "cuda"
    p, e = s["predict"], s["explain"]
    lines = [
        "## On a GPU (`benchmarks/gpu.sh`)", "",
        ("Run " if on_gpu else "**No GPU was lent to the session that wrote `benchmarks/gpu.sh`: the figures below "
         "are its dry run with `--device cpu`, the same steps on the CPU; the CUDA lines are untried.** Run ")
        + (f"{r['started']} on {m['cores']} cores ({m['cpu']}), GPU: {m['gpu']}, torch {m['torch']}, device "
           f"`{r['device']}`; {r['wall_s'] / 60:.1f} min in all, installing ffmpeg and the wheels from `.gpu/` "
           f"included ({r['setup_s']:.0f} s). Raw numbers in `benchmarks/results/{'gpu' if on_gpu else 'gpu-dryrun-cpu'}"
           ".json`. How to run it on a machine without network: the header of `benchmarks/gpu.sh`.")
        + (f" Load average {r['load_avg'][0]:.1f} before, {r['load_avg'][1]:.1f} after." if "load_avg" in r else ""), "",
        "| goal (on a GPU) | measured | |", "|---|---|---|",
        *(f"| {g} | {v} | {('met' if ok else '**missed**') if on_gpu else 'not a GPU run'} |"
          for g, v, ok in goals(r)), "",
        (f"- Training on {r['n_movies']} synthetic movies (without MiniLM): synth {t['synth_s']:.0f} s, train "
         f"{t['train_s']:.0f} s (stages: " + ", ".join(f"{k} {v:.0f} s" for k, v in t["stages_s"].items()) + ")."),
        (f"- `/v1/predict`, reference bundle, {p['n']} requests after 2 warm-ups: server p50 {p['server_p50_ms']:.0f} ms, "
         f"p95 {p['server_p95_ms']:.0f} ms; client p50 {p['client_p50_ms']:.0f} ms, p95 {p['client_p95_ms']:.0f} ms. "
         "Stages (median ms): " + ", ".join(f"{k} {v:.0f}" for k, v in p["stages_ms_median"].items()) + "."),
        (f"- `/v1/explain` ({e['n']} requests): server p50 {e['server_p50_ms']:.0f} ms, client p50 "
         f"{e['client_p50_ms']:.0f} ms. Stages (median ms): "
         + ", ".join(f"{k} {v:.0f}" for k, v in e["stages_ms_median"].items()) + "."),
        "- " + _lstm_line(r["lstm_explain"]),
        (f"- Batch prediction (`predict --data`, {b['movies']} movies, {b['workers']} workers, start-up included): "
         f"{b['trailers_per_minute']:.0f} trailers a minute, {b['errors']} errors."),
        "- Serving models: " + ", ".join(f"{k}: `{v}`" for k, v in t["serving"].items()) + ".", "",
    ]
    return lines


def _lstm_line(lstm: dict) -> str:
    if "skipped" in lstm:
        return f"CNN+LSTM explain pass: skipped ({lstm['skipped']})."
    return (f"CNN+LSTM video model's explain pass on the device (Grad-CAM with cuDNN off, {lstm['frames']} frames, "
            f"{lstm['heatmaps']} heatmaps): {lstm['ms_median_of_3']:.0f} ms (median of 3 after a first of "
            f"{lstm['first_ms']:.0f} ms).")


def gpu_results() -> Path | None:
    """The GPU run when there is one, else the CPU dry run."""
    return next((p for p in (GPU, DRY_RUN) if p.is_file()), None)
