// The upload page: shape the form to the model (form.js), send the bundle to /v1/predict (or /v1/explain
// when the server offers it), show upload progress, then "scoring", then the genres, or a readable error.
"use strict";

(() => {
  const PREDICT = "/v1/predict";
  const EXPLAIN = "/v1/explain";
  const $ = (id) => document.getElementById(id);
  const el = ms.el;
  const MAX_RETRIES = 60;
  const state = { explainOffered: false, model: null, modelKey: null, shapedFor: null, retries: 0 };

  // Once per page: does this server offer explanations? (Older servers: no /v1/explain.)
  async function detectExplain() {
    const spec = await ms.getJSON("/openapi.json");
    state.explainOffered = Boolean(spec.status === 200 && spec.body && spec.body.paths && spec.body.paths[EXPLAIN]);
    $("explain-choice").hidden = !state.explainOffered;
  }

  // The model's genres, thresholds, parts and fields come from /v1/model; the form takes its shape from it.
  // Asking it before an upload also answers 401 / 503 before a long upload.
  async function modelInfo(key, refresh) {
    if (!refresh && state.model && state.modelKey === key) return state.model;
    const answer = await ms.getJSON("/v1/model", key);
    if (answer.status !== 200 || !answer.body) throw answer;
    state.model = answer.body;
    state.modelKey = key;
    if (state.shapedFor !== state.model.model_version) {
      state.shapedFor = state.model.model_version;
      movieForm.apply(state.model);
    }
    return state.model;
  }

  // On load and whenever the key changes. Without a key (401) the generic form stays until one is typed;
  // while the server loads its model (503) the page asks again.
  async function loadModel() {
    try {
      await modelInfo($("api-key").value.trim());
    } catch (answer) {
      if (answer.status === 503 && state.retries++ < MAX_RETRIES) {
        setTimeout(loadModel, 1000 * Math.min(30, Math.max(1, Number(answer.retryAfter) || 5)));
      }
    }
  }

  // XMLHttpRequest, not fetch: only it reports upload progress.
  function upload(url, data, key) {
    return new Promise((resolve) => {
      const xhr = new XMLHttpRequest();
      xhr.open("POST", url);
      for (const [name, value] of Object.entries(ms.authHeaders(key))) xhr.setRequestHeader(name, value);
      xhr.upload.onprogress = (event) => {
        if (event.lengthComputable) setStatus("Uploading…", (100 * event.loaded) / event.total);
      };
      xhr.upload.onload = () => setStatus("Scoring…", null);
      xhr.onload = () => resolve({ status: xhr.status, body: ms.parseJSON(xhr.responseText),
                                   retryAfter: xhr.getResponseHeader("Retry-After") });
      xhr.onerror = () => resolve({ status: 0, body: null, retryAfter: null });
      setStatus("Uploading…", 0);
      xhr.send(data);
    });
  }

  function setStatus(text, percent) {
    const box = $("status");
    box.hidden = false;
    box.dataset.phase = percent === null ? "scoring" : "uploading";
    $("status-text").textContent = text;
    const bar = $("progress");
    if (percent === null) bar.removeAttribute("value");  // indeterminate while the server scores
    else bar.value = percent;
  }

  async function predict(key, model, metadata) {
    const explain = state.explainOffered && $("explain").checked;
    let answer = await upload(explain ? EXPLAIN : PREDICT, movieForm.formData(metadata), key);
    if (explain && (answer.status === 404 || answer.status === 405)) {
      state.explainOffered = false;  // the server no longer offers it: plain predictions from now on
      $("explain-choice").hidden = true;
      answer = await upload(PREDICT, movieForm.formData(metadata), key);
    }
    if (answer.status !== 200 || !answer.body || !Array.isArray(answer.body.genres)) throw answer;
    const current = answer.body.model_version === model.model_version ? model : await modelInfo(key, true);
    return { result: answer.body, model: current };
  }

  // a bundle with nothing the model reads is refused here, naming the parts it reads
  function refuse(refusal) {
    if (refusal) throw refusal;
  }

  async function onSubmit(event) {
    event.preventDefault();
    $("error").hidden = true;
    $("results").hidden = true;
    const key = $("api-key").value.trim();
    ms.rememberKey(key, $("remember-key").checked);
    $("submit").disabled = true;
    try {
      refuse(movieForm.refusal(state.model));
      const model = await modelInfo(key);
      refuse(movieForm.refusal(model));
      const { result, model: current } = await predict(key, model, movieForm.collectMetadata());
      renderResults(result, current);
    } catch (failure) {
      ms.showError($("error"), failure.title ? failure : ms.describeError(failure));
      (failure.target || $("error")).focus();
    } finally {
      $("status").hidden = true;
      $("submit").disabled = false;
    }
  }

  // ---- results ----------------------------------------------------------------------
  function genreBar(genre, threshold) {
    const fill = el("span", { class: "fill" });
    fill.style.width = `${Math.max(0, Math.min(1, genre.score)) * 100}%`;
    const mark = el("span", { class: "threshold", title: `threshold ${ms.pct(threshold)}` });
    mark.style.left = `${Math.max(0, Math.min(1, threshold)) * 100}%`;
    return el("li", { class: genre.predicted ? "bar predicted" : "bar" },
      el("span", { class: "genre" }, genre.genre),
      el("span", { class: "track", "aria-hidden": "true" }, fill, typeof threshold === "number" ? mark : null),
      el("span", { class: "score" }, ms.pct(genre.score)),
      el("span", { class: "verdict" }, genre.predicted ? "predicted" : ""),
      el("span", { class: "sr-only" }, typeof threshold === "number" ? `, threshold ${ms.pct(threshold)}` : ""));
  }

  function modalityList(result) {
    const used = result.used_modalities || [];
    const missing = result.missing_modalities || [];
    const untrusted = new Map(untrustedOf(result).map((u) => [u.modality, u]));
    return el("ul", { class: "modalities" },
      used.map((m) => (untrusted.has(m) ? el("li", { class: "used untrusted" }, `${m}: used, though unlike its training data`)
        : el("li", { class: "used" }, `${m}: used`))),
      [...untrusted.values()].filter((u) => u.left_out)
        .map((u) => el("li", { class: "untrusted" }, `${u.modality}: left out (unlike its training data)`)),
      missing.map((m) => el("li", { class: "missing" }, `${m}: missing`)));
  }

  const untrustedOf = (result) => (Array.isArray(result.untrusted_modalities) ? result.untrusted_modalities : []);

  // [the notice of the parts unlike the model's training data], or []: beside the genres, since it says how far
  // to trust them; when the model does not know any part sent, it says so first
  function trustNotice(result) {
    const untrusted = untrustedOf(result);
    if (!untrusted.length) return [];
    const unknown = result.known_input === false;
    return [el("div", { class: unknown ? "notice unknown-input" : "notice", id: "untrusted" },
      el("strong", {}, unknown ? "The model does not know this kind of input. " : "Not trusted: "),
      result.input_notice || "",
      el("ul", { class: "reasons" }, untrusted.map((u) => el("li", {}, `${u.modality}: ${u.reason}.`))))];
  }

  // [the notice of what the model left out of what was sent], or []: nothing is dropped without a word
  function ignoredNotice(result) {
    const parts = Array.isArray(result.ignored_parts) ? result.ignored_parts : [];
    const fields = Array.isArray(result.ignored_fields) ? result.ignored_fields : [];
    if (!parts.length && !fields.length) return [];
    const said = [
      parts.length ? `${movieForm.listed(movieForm.partNames(parts), "and")} (it does not read ${parts.length > 1 ? "them" : "it"})` : "",
      fields.length ? `the catalogue ${fields.length > 1 ? "facts" : "fact"} ${movieForm.listed(fields, "and")} ` +
        `(${fields.length > 1 ? "fields" : "a field"} it does not know)` : "",
    ].filter(Boolean);
    return [el("p", { class: "notice", id: "ignored" }, el("strong", {}, "Not used by this model: "), `${said.join("; ")}.`)];
  }

  // the text the model's text part read, and what it is: the title comes first, where the model reads it
  function textRead(model) {
    const title = movieForm.readsOf(model).includes("title") ? $("title").value.trim() : "";
    const text = [title, $("plot").value.trim()].filter(Boolean).join(" ");
    return [text, title ? "Title and plot" : "Plot"];
  }

  function renderResults(result, model) {
    const thresholds = (model && model.thresholds) || {};
    const genres = [...result.genres].sort((a, b) => b.score - a.score);
    const predicted = genres.filter((g) => g.predicted).map((g) => g.genre);
    const total = result.timings_ms && result.timings_ms.total;
    const box = $("results");
    box.replaceChildren(
      el("h2", { id: "results-title" }, "Genres"),
      el("p", { class: "summary" }, predicted.length ? `Predicted: ${predicted.join(", ")}.`
        : result.known_input === false && !(result.used_modalities || []).length
          ? "No genre predicted: the model does not know this kind of input." : "No genre reaches its threshold.",
        ` Model ${result.model_version}${typeof total === "number" ? `, scored in ${Math.round(total)} ms` : ""}.`),
      ...ignoredNotice(result),
      ...trustNotice(result),
      el("ol", { class: "bars" }, genres.map((g) => genreBar(g, thresholds[g.genre]))),
      el("p", { class: "hint" }, "The dark line on each bar marks that genre's threshold; at or above it, the genre is predicted."),
      el("h3", {}, "Modalities"),
      modalityList(result));
    const why = window.explainView && window.explainView(result, genres, ...textRead(model));
    if (why) box.append(why);
    box.hidden = false;
    box.focus();
  }

  document.addEventListener("DOMContentLoaded", () => {
    $("api-key").value = ms.storedKey();
    $("remember-key").checked = Boolean($("api-key").value);
    $("predict-form").addEventListener("submit", onSubmit);
    $("api-key").addEventListener("change", loadModel);
    detectExplain();
    loadModel();
  });
})();
