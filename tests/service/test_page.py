"""The page in a real browser (Debian's headless chromium, driven by Playwright) against a real server.

Skipped with a message where no chromium is installed; under CI (CI set) a missing browser fails,
so that the browser tests cannot silently stop running there. `make test` installs chromium.
"""

import json
import os
import re
import shutil
from email.parser import BytesParser
from email.policy import HTTP
from pathlib import Path

import httpx
import pytest

from models.backbones import LITE0_SHA256
from models.genres import MOVIESCOPE
from service.gate import BUSY_RETRY_AFTER_S

pytestmark = pytest.mark.slow
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
WIDTHS = (1440, 360)


def chromium_path() -> str | None:
    return os.environ.get("MOVIESCOPE_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module")
def browser():
    path = chromium_path()
    problem = None if path else "no chromium found (apt-get install chromium; `make test` installs it)"
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        problem = "the playwright package is missing (pip install -e '.[dev]')"
    if problem:
        if os.environ.get("CI"):
            pytest.fail(f"browser tests cannot run under CI: {problem}")
        pytest.skip(problem)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    """A fresh page (1440 px wide) that fails the test on any script error in the page."""
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda err: errors.append(str(err)))
    yield tab
    context.close()
    assert errors == [], f"script errors in the page: {errors}"


@pytest.fixture(scope="module")
def key(server) -> str:
    """The shared server's API key (it has one)."""
    return server.headers["Authorization"].removeprefix("Bearer ")


@pytest.fixture(scope="module")
def screenshots(tmp_path_factory) -> Path:
    """Where screenshots go: $MOVIESCOPE_SCREENSHOTS when set (CI artifacts), else a pytest temp dir."""
    target = os.environ.get("MOVIESCOPE_SCREENSHOTS")
    root = Path(target) if target else tmp_path_factory.mktemp("screenshots")
    root.mkdir(parents=True, exist_ok=True)
    return root


@pytest.fixture(scope="module")
def movie(tiny_dataset) -> dict:
    """A synthetic movie with trailer, poster, plot and metadata, paths made absolute."""
    rows = [json.loads(line) for line in (tiny_dataset / "movies.jsonl").read_text().splitlines()]
    row = next(r for r in rows if all(r.get(k) for k in ("trailer", "poster", "plot", "metadata")))
    return {**row, "trailer": tiny_dataset / row["trailer"], "poster": tiny_dataset / row["poster"]}


def fill_form(page, trailer: Path, poster: Path | None = None, plot: str = "", key: str = "",
              metadata: dict | None = None) -> None:
    page.set_input_files("#trailer", str(trailer))
    if poster:
        page.set_input_files("#poster", str(poster))
    page.fill("#plot", plot)
    page.fill("#api-key", key)
    for field, value in (metadata or {}).items():
        page.fill(f"#metadata [data-key='{field}']", str(value))


def bars(page) -> list[dict]:
    return page.eval_on_selector_all("#results .bar", """items => items.map(li => ({
        genre: li.querySelector('.genre').textContent, score: li.querySelector('.score').textContent,
        predicted: li.classList.contains('predicted'), threshold: !!li.querySelector('.threshold')}))""")


def sent_form(request) -> dict[str, str]:
    """The multipart form (without files: Chromium keeps those from Playwright) the page sent: name -> text."""
    head = f"Content-Type: {request.headers['content-type']}\r\n\r\n".encode()
    message = BytesParser(policy=HTTP).parsebytes(head + request.post_data_buffer)
    return {part.get_param("name", header="content-disposition"): part.get_content() for part in message.iter_parts()}


def check_fits(page, width: int) -> None:
    """Readable at this width: nothing makes the page scroll sideways."""
    page.set_viewport_size({"width": width, "height": 900})
    wide = page.evaluate("""w => [...document.querySelectorAll('body *')]
        .filter(e => e.getBoundingClientRect().right > w).slice(0, 5)
        .map(e => `${e.tagName.toLowerCase()}.${e.className} ${Math.round(e.getBoundingClientRect().right)}px`)""", width)
    assert page.evaluate("document.documentElement.scrollWidth") <= width, wide


def test_prediction_in_the_page_is_the_apis(server, page, movie, screenshots, key):
    page.goto(server.url + "/")
    meta = {k: movie["metadata"][k] for k in ("year", "content_rating", "runtime_min") if k in movie["metadata"]}
    fill_form(page, movie["trailer"], movie["poster"], movie["plot"], key, meta)
    page.evaluate("""() => { window.phases = [];
        new MutationObserver(() => phases.push(document.getElementById('status').dataset.phase))
          .observe(document.getElementById('status'), {attributes: true, attributeFilter: ['data-phase']}); }""")
    page.click("button[type=submit]")
    page.wait_for_selector("#results .bar", timeout=120_000)

    api = server.predict(movie["trailer"], movie["poster"], movie["plot"], json.dumps(meta)).json()
    shown = bars(page)
    assert [b["genre"] for b in shown] == [g["genre"] for g in api["genres"]]
    assert (shown[0]["genre"], shown[0]["score"]) == (api["genres"][0]["genre"], f"{100 * api['genres'][0]['score']:.1f}%")
    assert [b["predicted"] for b in shown] == [g["predicted"] for g in api["genres"]]
    assert len(shown) == len(MOVIESCOPE) and all(b["threshold"] for b in shown)
    modalities = page.inner_text("#results .modalities")
    assert all(f"{m}: used" in modalities for m in api["used_modalities"])
    assert page.locator("#ignored").count() == 0 and "null" not in page.inner_text("#results")  # all of it was used
    assert {"uploading", "scoring"} <= set(page.evaluate("window.phases"))
    for width in WIDTHS:
        check_fits(page, width)
        page.screenshot(path=str(screenshots / f"page-{width}.png"), full_page=True)


def test_form_is_built_from_the_models_fields(server, page, key):
    """Before the key the page shows its generic form (401); once the key is typed, the model's own."""
    page.goto(server.url + "/")
    assert page.is_visible("#trailer") and page.get_attribute("#predict-form", "data-model") is None
    page.fill("#api-key", key)
    page.press("#api-key", "Tab")
    page.wait_for_selector("#predict-form[data-model]")
    model = server.get("/v1/model").json()
    inputs = page.eval_on_selector_all("#metadata input[data-key]", """els => els.map(e => ({key: e.dataset.key,
        type: e.type, min: e.min, max: e.max, step: e.step, maxlength: e.maxLength, label: e.labels[0].textContent}))""")
    assert [i["key"] for i in inputs] == [f["name"] for f in model["metadata_fields"]]
    shown = {i["key"]: i for i in inputs}
    assert [shown["year"][k] for k in ("type", "min", "max", "step", "label")] == ["number", "1870", "2100", "1", "Year"]
    assert [shown["runtime_min"][k] for k in ("type", "step", "label")] == ["number", "any", "Runtime (min)"]
    assert [shown["content_rating"][k] for k in ("type", "maxlength")] == ["text", 32]
    for part in ("trailer", "poster", "title", "plot"):
        assert page.is_visible(f"[data-part='{part}']") == (part in model["reads"]), part
    lead = page.inner_text("#lead")
    assert f"the model's {len(model['genres'])} genres" in lead and "13 Moviescope" not in lead
    check_fits(page, 360)


def test_missing_parts_are_listed_as_missing(server, page, movie, key):
    page.goto(server.url + "/")
    fill_form(page, movie["trailer"], key=key)
    page.click("button[type=submit]")
    page.wait_for_selector("#results .bar", timeout=120_000)
    missing = page.inner_text("#results .modalities")
    assert all(f"{m}: missing" in missing for m in ("poster", "text", "metadata"))
    assert "video: used" in missing



def test_an_input_unlike_the_training_data_gets_a_notice_beside_the_genres(server, page, movie, key):
    page.goto(server.url + "/")
    fill_form(page, movie["trailer"], key=key, metadata={"year": 2005, "runtime_min": 900})
    page.click("button[type=submit]")
    page.wait_for_selector("#results #untrusted", timeout=120_000)
    notice = page.inner_text("#untrusted")
    assert "metadata" in notice and "runtime_min = 900" in notice
    assert "metadata: used, though unlike its training data" in page.inner_text("#results .modalities")  # kept

# what the person sees for each error answer: (status, words of the page's own text, words of the server's)
ERRORS = {
    "415 text renamed .mp4": (415, "not of a type this server accepts", "not a video"),
    "401 missing key": (401, "needs an API key", "API key"),
    "422 metadata out of range": (422, "could not use this input", "metadata.year"),
    "413 trailer too large": (413, "larger than this server accepts", "exceeds the limit of 1 MB"),
}


@pytest.mark.parametrize(("status", "title", "detail"), ERRORS.values(), ids=ERRORS.keys())
def test_error_answers_are_readable_messages(server, page, key, media_dir, limit_media, movie,
                                             status, title, detail):
    trailer = {415: media_dir / "text.mp4", 413: limit_media / "big.mp4"}.get(status, movie["trailer"])
    page.goto(server.url + "/")
    fill_form(page, trailer, key="" if status == 401 else key,
              metadata={"year": 1500} if status == 422 else None)
    page.click("button[type=submit]")
    page.wait_for_selector("#error:not([hidden])", timeout=60_000)
    message = page.inner_text("#error")
    assert title in message and detail in message
    assert page.get_attribute("#error", "data-status") == str(status)
    assert page.is_hidden("#results") and "{" not in message  # words, not a JSON dump


def test_busy_server_shows_when_to_retry(server, page, movie, key):
    """The gate's own refusal (tests/service/test_admission.py has the server send it), handed to the page."""
    page.route(re.compile(r"/v1/(explain|predict)$"), lambda route: route.fulfill(
        status=503, headers={"Retry-After": BUSY_RETRY_AFTER_S},
        json={"detail": "too many requests in flight; retry shortly"}))
    page.goto(server.url + "/")
    fill_form(page, movie["trailer"], key=key)
    page.click("button[type=submit]")
    page.wait_for_selector("#error:not([hidden])", timeout=60_000)
    message = page.inner_text("#error")
    assert "busy" in message and f"Try again in {BUSY_RETRY_AFTER_S} s" in message


def test_keyboard_only(server, page, movie, key):
    """Every control has a label; Enter in a field submits; the answer takes the focus."""
    page.goto(server.url + "/")
    unlabelled = page.eval_on_selector_all("input, textarea, select",
                                           "els => els.filter(e => !e.labels.length).map(e => e.id)")
    assert unlabelled == []
    fill_form(page, movie["trailer"], key=key, metadata={"year": 1500})
    page.focus("#m-year")
    page.keyboard.press("Enter")
    page.wait_for_selector("#error:not([hidden])", timeout=60_000)
    assert page.evaluate("document.activeElement.id") == "error"
    page.fill("#m-year", "")
    page.focus("#submit")
    page.keyboard.press("Enter")
    page.wait_for_selector("#results:not([hidden]) .bar", timeout=120_000)
    assert page.evaluate("document.activeElement.id") == "results" and page.is_hidden("#error")


def test_falls_back_to_predict_when_explain_is_gone(server, page, movie, key):
    """A server that lists /v1/explain but answers 404 there: the page asks /v1/predict instead."""
    page.route("**/v1/explain", lambda route: route.fulfill(status=404, json={"detail": "Not Found"}))
    page.goto(server.url + "/")
    page.wait_for_selector("#explain-choice:not([hidden])")
    fill_form(page, movie["trailer"], key=key)
    page.click("button[type=submit]")
    page.wait_for_selector("#results .bar", timeout=120_000)
    assert len(bars(page)) == len(MOVIESCOPE) and page.is_hidden("#explain-choice")


def test_explanation_renders(server, page, movie, screenshots, key):
    """The server offers /v1/explain: the page asks it and draws why, for the top genres."""
    page.goto(server.url + "/")
    page.wait_for_selector("#explain-choice:not([hidden])")
    assert page.is_checked("#explain")
    fill_form(page, movie["trailer"], movie["poster"], movie["plot"], key, {"year": movie["metadata"]["year"]})
    with page.expect_response("**/v1/explain", timeout=180_000) as answer:
        page.click("button[type=submit]")
    explanation = answer.value.json()["explanation"]
    page.wait_for_selector("#results .explanations", timeout=60_000)
    titles = page.eval_on_selector_all("#results .why h3", "hs => hs.map(h => h.textContent)")
    assert [t.split(" (")[0] for t in titles] == [f"Why {g}" for g in explanation["genres"]]
    first = page.locator("#results .why").first
    shares = explanation["fusion"][explanation["genres"][0]]["shares"]
    legend = first.locator(".legend").inner_text()
    assert all(m in legend for m, share in shares.items() if share > 0)
    assert first.locator(".overlays figure").count() == 3 + 1  # three key frames and the poster
    page.wait_for_function("[...document.querySelectorAll('.why .overlays img')].every(i => i.complete)")
    assert page.eval_on_selector_all(".why .overlays img", "imgs => imgs.every(i => i.naturalWidth > 0)")
    marked = first.locator(".plot mark").all_inner_texts()
    words = {w for t in explanation["text"][explanation["genres"][0]] for w in t["token"].split()}
    assert marked and {w.lower().strip(".,;:!?'\"") for w in marked} <= words
    assert first.locator(".strip span").count() == len(explanation["audio"]["times_s"])
    for width in WIDTHS:
        check_fits(page, width)
        page.screenshot(path=str(screenshots / f"explain-{width}.png"), full_page=True)


def test_model_card(server, page, screenshots, key):
    page.goto(server.url + "/model")
    page.wait_for_selector("#key-form:not([hidden])")  # this server needs a key
    assert "needs an API key" in page.inner_text("#error")
    page.fill("#api-key", key)
    page.click("#key-form button[type=submit]")
    page.wait_for_selector("#card:not([hidden])")
    model = server.get("/v1/model").json()
    assert model["model_version"] in page.inner_text("#card-title")
    assert "Trained on synthetic trailers" in page.inner_text("#synthetic")
    assert "seed 0" in page.inner_text("#synthetic")
    heat = page.eval_on_selector_all("#fusion tbody tr", "rows => rows.map(r => r.cells[0].textContent)")
    assert heat == list(MOVIESCOPE)
    assert f"Genres ({len(MOVIESCOPE)})" in page.inner_text("#scope") and page.is_hidden("#left-out")
    fields = page.eval_on_selector_all("#fields tbody tr", "rows => rows.map(r => r.cells[0].textContent)")
    assert fields == [f["name"] for f in model["metadata_fields"]]
    assert "efficientnet_lite0" in page.inner_text("#models") and LITE0_SHA256 in page.inner_text("#models")
    assert "all (learned)" in page.inner_text("#report")
    assert "Mahalanobis" in page.inner_text("#typicality-method") and "training films" in page.inner_text("#typicality")
    page.locator("#plots").scroll_into_view_if_needed()
    for _ in range(100):  # the plots load lazily, with the key, once in view
        if page.evaluate("[...document.querySelectorAll('#plots img')].every(i => i.naturalWidth > 0)"):
            break
        page.wait_for_timeout(100)
    assert page.eval_on_selector_all("#plots img", "imgs => imgs.map(i => i.naturalWidth > 0)") == [True, True]
    for width in WIDTHS:
        check_fits(page, width)
        page.screenshot(path=str(screenshots / f"model-card-{width}.png"), full_page=True)


# ---- a model of titles and catalogue facts with its own genres (no trailer, no poster) ------------------------
MOVIELENS = ["Action", "Adventure", "Animation", "Children", "Comedy", "Crime", "Documentary", "Drama", "Fantasy",
             "Film-Noir", "Horror", "IMAX", "Musical", "Mystery", "Romance", "Sci-Fi", "Thriller", "War", "Western"]
LEARNED = [g for g in MOVIELENS if g != "IMAX"]  # IMAX: only a test movie has it, so the model leaves it out
LICENSE = {"name": "MovieLens", "license": "research use only", "url": "https://grouplens.org/datasets/movielens/"}
MEDIA_FREE = ("video", "video_tempconv", "video_lstm", "video_bilstm", "audio", "poster", "text", "text_fasttext",
              "text_minilm", "text_conv1d", "metadata_rf")


def catalogue_row(i: int) -> dict:
    genres = sorted({LEARNED[i % 18], LEARNED[(5 * i + 1) % 18]}) + (["IMAX"] if i == 59 else [])
    return {"id": f"ml{i:04d}", "title": f"The {genres[0].lower()} story {i}", "genres": genres,
            "split": ("train", "train", "train", "val", "test")[i % 5],
            "metadata": {"year": 1950 + i, "runtime_min": 80.0 + i, "rating_share_3": (i % 10) / 10,
                         "content_rating": ("G", "PG", "R")[i % 3], "keywords": [g.lower() for g in genres],
                         "release_date": f"{1950 + i}-0{1 + i % 9}-15"}}


@pytest.fixture(scope="module")
def catalogue_artifacts(tmp_path_factory) -> Path:
    """A model trained on 60 titles with catalogue facts (a number, a category, a list, a date) and 18 MovieLens
    genres: it reads the title (and plot) and the metadata, nothing else."""
    from training.config import load_config
    from training.train import train

    root = tmp_path_factory.mktemp("catalogue")
    data = root / "data"
    data.mkdir()
    (data / "movies.jsonl").write_text("".join(json.dumps(catalogue_row(i)) + "\n" for i in range(60)))
    (data / "dataset.json").write_text(json.dumps({"name": "tiny-movielens", "description": "60 test films, MovieLens "
                                                   "genres", "synthetic": False, "genres": MOVIELENS,
                                                   "licenses": [LICENSE]}))
    models = {**dict.fromkeys(MEDIA_FREE), "text_title": {"params": {}},
              "metadata": {"params": {"n_estimators": 10}}}
    (root / "config.json").write_text(json.dumps({"min_genre_positives": 1, "models": models}))
    train(data, root / "artifacts", load_config(root / "config.json"), "cpu", root / "cache")
    return root / "artifacts"


@pytest.fixture(scope="module")
def catalogue_server(start_module_server, catalogue_artifacts):
    return start_module_server(catalogue_artifacts).wait_ready()


def test_a_model_without_media_gets_a_form_of_its_own(catalogue_server, page, media_dir, screenshots):
    """While the model loads (503) the page shows every part; then only what the model reads. A trailer chosen
    before stays, marked, and the answer says it was not used; the list, date and category go out as JSON."""
    srv = catalogue_server
    page.route("**/v1/model", lambda route: route.fulfill(status=503, headers={"Retry-After": "1"},
                                                           json={"detail": "models are still loading"}))
    page.goto(srv.url + "/")
    page.set_input_files("#trailer", str(media_dir / "good.mp4"))
    page.fill("#metadata [data-key='imdb_score']", "7.5")
    page.unroute("**/v1/model")
    page.wait_for_selector("#predict-form[data-model]", timeout=30_000)
    assert page.is_hidden("[data-part='poster']") and page.is_visible("#title")
    assert "not read by this model" in page.inner_text("[data-part='trailer']")
    assert "not read by this model" in page.inner_text("#metadata .unread")

    posts = []
    page.on("request", lambda request: posts.append(request.url) if request.method == "POST" else None)
    page.click("#submit")  # nothing the model reads yet: refused, naming what it reads
    page.wait_for_selector("#error:not([hidden])")
    assert "the plot, the title or catalogue facts" in page.inner_text("#error") and posts == []

    page.fill("#title", "The western story 7")
    page.fill("#metadata [data-key='keywords']", "western, war , ")
    page.fill("#metadata [data-key='release_date']", "2001-05-04")
    page.fill("#metadata [data-key='content_rating']", "PG")
    page.fill("#metadata [data-key='year']", "2001")
    page.click("#submit")
    page.wait_for_selector("#results .bar", timeout=120_000)
    model = httpx.get(srv.url + "/v1/model").json()
    assert sorted(b["genre"] for b in bars(page)) == sorted(model["genres"]) == sorted(LEARNED)
    ignored = page.inner_text("#ignored")
    assert "Not used by this model" in ignored and "the trailer" in ignored and "imdb_score" in ignored

    page.set_input_files("#trailer", [])  # Chromium does not show tests a body with a file: send one without
    with page.expect_request(lambda request: request.method == "POST") as sent:
        page.click("#submit")
    page.wait_for_selector("#results:not([hidden]) .bar", timeout=120_000)
    form = sent_form(sent.value)
    assert form.keys() == {"title", "metadata"} and form["title"] == "The western story 7"
    assert json.loads(form["metadata"]) == {"year": 2001, "content_rating": "PG", "keywords": ["western", "war"],
                                            "release_date": "2001-05-04", "imdb_score": 7.5}
    assert "the trailer" not in page.inner_text("#ignored")
    for width in WIDTHS:
        check_fits(page, width)
        page.screenshot(path=str(screenshots / f"catalogue-page-{width}.png"), full_page=True)


def test_model_card_of_a_model_trained_on_real_films(catalogue_server, page, screenshots):
    srv = catalogue_server
    page.goto(srv.url + "/model")
    page.wait_for_selector("#card:not([hidden])")
    assert page.inner_text("#trained-on") == "Trained on 60 real films (60 test films, MovieLens genres)."
    assert page.locator("#synthetic").count() == 0
    assert "MovieLens: research use only" in page.inner_text("#licenses")
    assert page.get_attribute("#licenses a", "href") == LICENSE["url"]
    scope = page.inner_text("#scope")
    assert "Genres (18)" in scope and "Film-Noir" in scope and "the title" in scope and "the trailer" not in scope
    assert "IMAX (0 training movies)" in page.inner_text("#left-out")
    model = httpx.get(srv.url + "/v1/model").json()
    fields = page.eval_on_selector_all("#fields tbody tr", "rows => rows.map(r => r.cells[0].textContent)")
    assert fields == [f["name"] for f in model["metadata_fields"]] and "keywords" in fields
    heat = page.eval_on_selector_all("#fusion tbody tr", "rows => rows.map(r => r.cells[0].textContent)")
    assert heat == model["genres"] == LEARNED
    heads = page.eval_on_selector_all("#report thead th", "ths => ths.map(th => th.title || th.textContent)")
    assert heads[1:1 + len(LEARNED)] == LEARNED  # a short head (Anim.) keeps the whole name as its title
    for width in WIDTHS:  # 18 genre columns: the report scrolls in its box, the page does not
        check_fits(page, width)
        page.screenshot(path=str(screenshots / f"catalogue-card-{width}.png"), full_page=True)
