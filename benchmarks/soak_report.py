"""The soak benchmark's figures from its outcomes and samples, its targets, and its BENCHMARKS.md section."""

import statistics
from collections import Counter

RSS_GROWTH_LIMIT_MB = 200
LATENCY_KINDS = ("valid", "clip")  # the valid requests sent at full speed (slow uploads are slow on purpose)


def summarise(outcomes: list, seconds: float, samples: list[dict], end: dict, leftovers: list[str]) -> dict:
    answered = [o for o in outcomes if o.status is not None]
    latency = sorted(o.seconds * 1000 for o in answered if o.kind in LATENCY_KINDS and o.status == 200)
    errors = [o for o in outcomes if o.error]
    by_kind: dict[str, Counter] = {}
    for o in outcomes:
        by_kind.setdefault(o.kind, Counter())["cut" if o.cut else str(o.status) if o.status else "error"] += 1
    first_minute = min(samples, key=lambda s: abs(s["t_s"] - 60))
    rss = {"start": samples[0]["rss_mb"], "after_first_minute": first_minute["rss_mb"],
           "peak": max(s["rss_mb"] for s in [*samples, end]), "end": end["rss_mb"]}
    fds = {"start": samples[0]["fds"], "end": end["fds"], "peak": max(s["fds"] for s in samples)}
    result = {
        "requests": len(outcomes), "answered": len(answered),
        "requests_per_minute": 60 * len(outcomes) / seconds, "answers_per_minute": 60 * len(answered) / seconds,
        "statuses": dict(sorted(Counter(str(o.status) for o in answered).items())),
        "by_kind": {k: dict(sorted(v.items())) for k, v in sorted(by_kind.items())},
        "cut_on_purpose": sum(o.cut for o in outcomes),
        "server_errors": sum(o.status >= 500 for o in answered),
        "transport_errors": len(errors), "error_examples": [f"{o.kind} {o.upload}: {o.error}" for o in errors[:5]],
        "wrong_answers": _wrong_answers(answered),
        "latency_ms": _percentiles(latency),
        "rss_mb": rss, "fds": fds, "leftovers": leftovers,
    }
    result["targets"] = _targets(result)
    return result


def _wrong_answers(answered: list) -> dict[str, int]:
    """Answers of the wrong class: a valid request not 200, a hostile one not 4xx."""
    wrong = Counter()
    for o in answered:
        if (o.kind == "hostile" and not 400 <= o.status < 500) or (o.kind != "hostile" and o.status != 200):
            wrong[f"{o.kind} {o.upload}: {o.status}"] += 1
    return dict(wrong)


def _percentiles(values: list[float]) -> dict:
    if not values:
        return {"n": 0}
    def at(q: float) -> float:
        return values[min(len(values) - 1, round(q / 100 * (len(values) - 1)))]
    return {"n": len(values), "p50": statistics.median(values), "p95": at(95), "p99": at(99), "max": values[-1]}


def _targets(r: dict) -> list[dict]:
    growth = r["rss_mb"]["end"] - r["rss_mb"]["after_first_minute"]
    return [
        {"target": "no 5xx answers", "measured": str(r["server_errors"]), "met": r["server_errors"] == 0},
        {"target": "no transport errors (cuts made on purpose excluded)", "measured": str(r["transport_errors"]),
         "met": r["transport_errors"] == 0},
        {"target": f"RSS at the end within {RSS_GROWTH_LIMIT_MB} MB of the RSS after the first minute",
         "measured": f"{growth:+.0f} MB", "met": growth <= RSS_GROWTH_LIMIT_MB},
        {"target": "no request directory left behind", "measured": str(len(r["leftovers"])), "met": not r["leftovers"]},
        {"target": "file descriptors back to their level after the warm-up",
         "measured": f"{r['fds']['start']} -> {r['fds']['end']}", "met": r["fds"]["end"] <= r["fds"]["start"]},
    ]


def soak_lines(s: dict) -> list[str]:
    """The BENCHMARKS.md section of benchmarks/results/soak.json."""
    m, lat, rss = s["machine"], s["latency_ms"], s["rss_mb"]
    targets = s["targets"]
    kinds = "; ".join(f"{k}: " + ", ".join(f"{n} {status}" for status, n in v.items()) for k, v in s["by_kind"].items())
    lines = [
        "## Soak (`python -m benchmarks.soak`)", "",
        (f"Run {s['started']} for {s['seconds'] / 60:.1f} min on {m['cores']} cores ({m['cpu']}, GPU: {m['gpu']}): "
         f"{s['clients']} clients, each sending one request at a time, against one `moviescope serve` "
         f"(MOVIESCOPE_MAX_IN_FLIGHT={s['max_in_flight']}: twice the clients, so that a request a client abandoned, "
         "whose prediction the server still finishes, does not turn the client's next request into a 503; "
         "admission itself is tested in tests/service/test_admission.py). Load average "
         f"{s['load_avg'][0]:.1f} before and {s['load_avg'][1]:.1f} after: the machine is shared, so the rates and "
         "latencies are noisy. Raw numbers in `benchmarks/results/soak.json`."), "",
        "| target | measured | |", "|---|---|---|",
        *(f"| {t['target']} | {t['measured']} | {'met' if t['met'] else '**missed**'} |" for t in targets), "",
        (f"- {s['requests']} requests ({s['requests_per_minute']:.1f} a minute), {s['answered']} answered "
         f"({s['answers_per_minute']:.1f} a minute), {s['cut_on_purpose']} cut by their client on purpose. Answers by "
         "status: " + ", ".join(f"{n} x {k}" for k, n in s["statuses"].items()) + "."),
        f"- By kind: {kinds}.",
        (f"- Latency of the valid requests sent at full speed (bundles and real clips, {lat.get('n', 0)} answers): "
         + (f"p50 {lat['p50']:.0f} ms, p95 {lat['p95']:.0f} ms, p99 {lat['p99']:.0f} ms, max {lat['max']:.0f} ms."
            if lat.get("n") else "none.")),
        (f"- Service RSS: {rss['start']:.0f} MB after the warm-up, {rss['after_first_minute']:.0f} MB after the first "
         f"minute, {rss['peak']:.0f} MB at the peak, {rss['end']:.0f} MB at the end. File descriptors: "
         f"{s['fds']['start']} after the warm-up, {s['fds']['peak']} at the peak, {s['fds']['end']} at the end "
         f"({s['ready']['fds']} once ready, before any request)."),
        (f"- Request directories left: {len(s['leftovers'])} at the end, {len(s['stop']['leftovers_after_stop'])} "
         f"after the server stopped. Stopping with SIGINT took {s['stop']['stop_s']:.1f} s; tracebacks in the "
         f"server's log: {s['stop']['log_tracebacks']}."),
        f"- Real clips: {', '.join(s['clips']) or 'none installed'}. Hostile files: {', '.join(s['uploads']['hostile'])}.",
    ]
    if s["wrong_answers"]:
        lines.append("- Answers of the wrong class: " + ", ".join(f"{k} ({n})" for k, n in s["wrong_answers"].items()))
    return lines + [""]
