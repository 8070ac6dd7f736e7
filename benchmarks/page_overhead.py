"""What the web page adds to a prediction. One server, the same bundle, interleaved: a direct API
call from Python (httpx), the same call from the browser without the page (fetch), and the page
itself (submit -> bars drawn) in headless chromium. Writes benchmarks/results/page.json. Not a test.

    .venv/bin/python benchmarks/page_overhead.py [--artifacts runs/demo/artifacts] [--requests 10]

The bundle is the benchmarks' reference bundle (120 s 1280x720 trailer, poster, plot, metadata),
synthesised into --workdir when missing. Needs the dev setup (playwright) and Debian's chromium.
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if __package__ in (None, ""):  # run as a script: `python benchmarks/page_overhead.py`
    sys.path.insert(0, str(ROOT))

from playwright.sync_api import sync_playwright

from benchmarks.machine import machine
from benchmarks.run import _files, _post, _timed_cli, _wait_ready
from training.dataset import load_dataset

PORT = 8766
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
# In the page: submit the filled form, resolve once the bars are drawn (the next frame). Resource
# timing gives the upload request's own span (request start to response end, as the browser saw it).
SUBMIT = """() => new Promise((resolve) => {
  const results = document.getElementById("results"), error = document.getElementById("error");
  performance.clearResourceTimings();
  const start = performance.now();
  const done = () => requestAnimationFrame(() => {
    const xhr = performance.getEntriesByType("resource").find((e) => e.name.endsWith("/v1/predict"));
    resolve({total_ms: performance.now() - start, request_ms: xhr ? xhr.responseEnd - xhr.startTime : null,
             error: error.hidden ? null : error.textContent});
  });
  new MutationObserver((_, observer) => {
    if ((!results.hidden && results.querySelector(".bar")) || !error.hidden) { observer.disconnect(); done(); }
  }).observe(document.querySelector("main"), {attributes: true, childList: true, subtree: true});
  document.getElementById("predict-form").requestSubmit();
})"""
# The baseline: the same browser sends the same files and fields to the API itself, no page code.
BARE = """async () => {
  const form = new FormData(), $ = (id) => document.getElementById(id);
  form.append("trailer", $("trailer").files[0]);
  if ($("poster").files.length) form.append("poster", $("poster").files[0]);
  if ($("plot").value) form.append("plot", $("plot").value);
  const start = performance.now();
  const response = await fetch("/v1/predict", {method: "POST", body: form});
  await response.json();
  return performance.now() - start;
}"""
PAGE_WEIGHT = """() => {
  const entries = [performance.getEntriesByType("navigation")[0],
                   ...performance.getEntriesByType("resource").filter((e) => e.name.includes("/static/"))];
  return {bytes: entries.reduce((sum, e) => sum + (e.encodedBodySize || 0), 0), files: entries.length,
          dom_content_loaded_ms: performance.getEntriesByType("navigation")[0].domContentLoadedEventEnd};
}"""


def main() -> None:
    args = _args()
    bundle = reference_bundle(Path(args.workdir))
    env = {**os.environ, "MOVIESCOPE_LOG_LEVEL": "warning"}
    server = subprocess.Popen([sys.executable, "-m", "service.cli", "-q", "serve", "--port", str(PORT),
                               "--artifacts", str(args.artifacts)], env=env)
    url = f"http://127.0.0.1:{PORT}"
    try:
        _wait_ready(url, server)
        result = measure(url, bundle, args.requests)
    finally:
        server.terminate()
        server.wait(timeout=30)
    out = ROOT / "benchmarks" / "results" / "page.json"
    out.write_text(json.dumps(result, indent=2))
    print(json.dumps(result["summary_ms"], indent=2), f"\nwrote {out}")


def reference_bundle(work: Path):
    directory = work / "reference"
    if not (directory / "movies.jsonl").is_file():
        _timed_cli("synth", "--out", directory, "--n", "1", "--duration", "120", "--size", "1280x720", "--seed", "7")
    return load_dataset(directory).movies[0].bundle


def measure(url: str, bundle, requests: int) -> dict:
    files = _files(bundle)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=_chromium(), args=CHROMIUM_ARGS)
        page = browser.new_page()
        page.goto(url + "/")
        page.wait_for_load_state("load")
        weight = page.evaluate(PAGE_WEIGHT)
        _fill(page, bundle)
        for _ in range(2):  # warm-up, every way
            _post(url, files), page.evaluate(BARE), page.evaluate(SUBMIT)
        api, bare, through_page = [], [], []
        for _ in range(requests):  # interleaved, so that all three see the same machine load
            api.append(_post(url, files)["total_client_ms"])
            bare.append(page.evaluate(BARE))
            through_page.append(page.evaluate(SUBMIT))
        browser.close()
    errors = [p["error"] for p in through_page if p["error"]]
    if errors:
        raise RuntimeError(f"the page showed errors: {errors[:3]}")
    page_total = [p["total_ms"] for p in through_page]
    own = [p["total_ms"] - p["request_ms"] for p in through_page]
    median = statistics.median
    return {
        "machine": machine(), "started": time.strftime("%Y-%m-%d %H:%M:%S"), "requests": requests,
        "load_average_1min": os.getloadavg()[0],  # the machine is shared: read end-to-end figures with it
        "trailer_mb": round(bundle.trailer.stat().st_size / 2**20, 1), "page_weight": weight,
        "httpx_ms": api, "browser_fetch_ms": bare, "page_ms": page_total, "page_own_ms": own,
        "summary_ms": {"httpx_p50": median(api), "browser_fetch_p50": median(bare), "page_p50": median(page_total),
                       "page_minus_browser_fetch_p50": median(p - b for p, b in zip(page_total, bare, strict=True)),
                       "page_own_p50": median(own), "page_own_max": max(own)},
    }


def _fill(page, bundle) -> None:
    page.set_input_files("#trailer", str(bundle.trailer))
    if bundle.poster:
        page.set_input_files("#poster", str(bundle.poster))
    page.fill("#plot", bundle.plot or "")
    metadata = {k: v for k, v in (bundle.metadata or {}).items() if v is not None}
    for field in page.eval_on_selector_all("#metadata [data-key]", "inputs => inputs.map(i => i.dataset.key)"):
        if field in metadata:
            page.fill(f"#metadata [data-key='{field}']", str(metadata[field]))


def _chromium() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        raise SystemExit("no chromium found: apt-get install chromium (make setup-dev does)")
    return path


def _args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--artifacts", default="runs/demo/artifacts", help="a trained artifact directory")
    parser.add_argument("--requests", type=int, default=10, help="timed predictions each way after warm-up")
    parser.add_argument("--workdir", default="runs/bench", help="where the reference bundle is kept")
    return parser.parse_args()


if __name__ == "__main__":
    main()
