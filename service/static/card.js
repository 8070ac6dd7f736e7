// The model card: /v1/model (genres, parts and fields it reads, thresholds, fusion weights) and /v1/model/card
// (training data and its licences, backbones, the Table-3 report and its plots). Fields a model lacks are left out.
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);
  const el = ms.el;
  // optional shorter column heads for the report's 13 Moviescope genres; any other genre keeps its name
  const SHORT = { Animation: "Anim.", Biography: "Bio.", Comedy: "Com.", Fantasy: "Fant.", Mystery: "Myst.",
                  Romance: "Rom.", Thriller: "Thrill." };
  const PLOT_TEXT = { "modality_map.png": "mAP of each model on the test split",
                      "pr_curves.png": "Precision-recall curve of each genre (fused scores)" };
  const isObject = (value) => value !== null && typeof value === "object" && !Array.isArray(value);
  const row = (cells, tag = "td") => el("tr", {}, cells.map((c) => (c instanceof Node ? c : el(tag, {}, c))));
  const head = (cells) => el("thead", {}, el("tr", {}, cells.map((c) => el("th", { scope: "col" }, c))));

  function fact(term, value) {
    return value === null || value === undefined || value === "" ? [] : [el("dt", {}, term), el("dd", {}, String(value))];
  }

  function renderOverview(model, card) {
    const data = card.training_data || {};
    const splits = isObject(data.splits) ? Object.entries(data.splits).map(([s, n]) => `${s} ${n}`).join(", ") : "";
    $("overview").replaceChildren(
      ...fact("Version", model.model_version), ...fact("Created", card.created || model.created),
      ...fact("Profile", card.profile || model.profile), ...fact("Training seed", card.seed),
      ...fact("Training data", data.name || data.root_name), ...fact("Movies", data.n_movies), ...fact("Splits", splits),
      ...fact("Thresholds", model.threshold_objective));
    $("data-notice").replaceChildren(isObject(data.synthetic) ? syntheticNotice(data) : trainedOn(data));
    renderLicenses(data.licenses);
  }

  function syntheticNotice(data) {
    const synthetic = data.synthetic;
    const n = synthetic.n ?? data.n_movies ?? "?";
    const benchmark = synthetic.seed !== undefined && synthetic.seed !== null;  // else data that says it is synthetic
    const source = benchmark ? `the project's synthetic benchmark (seed ${synthetic.seed}, ${n} generated movies)`
      : `synthetic data (${n} movies)`;
    return el("p", { class: "notice", id: "synthetic" },
      el("strong", {}, benchmark ? "Trained on synthetic trailers. " : "Trained on synthetic data. "),
      `This model learned from ${source}, not from real films. ` + (benchmark ? "Its scores say how well the " +
        "pipeline recovers the evidence the generator planted, not how it does on real trailers." : "Its scores say " +
        "little about how it does on real films."));
  }

  // "Trained on 4965 real films (...)." from the dataset's own description, else its name
  function trainedOn(data) {
    const films = typeof data.n_movies === "number" ? `${data.n_movies} real films` : "real films";
    const name = data.name || data.root_name;
    const source = data.description ? ` (${data.description})` : name ? ` of the dataset “${name}”` : "";
    return el("p", { id: "trained-on" }, `Trained on ${films}${source}.`);
  }

  // each source of the data with its terms, and a link to them (http(s) only)
  function renderLicenses(licenses) {
    const items = (Array.isArray(licenses) ? licenses : []).filter(isObject);
    const link = (url) => (typeof url === "string" && /^https?:\/\//i.test(url)
      ? [" (", el("a", { href: url, rel: "noopener noreferrer" }, url), ")"] : null);
    $("licenses").replaceChildren(...(items.length ? [el("h4", {}, "Data licences"),
      el("ul", { class: "licenses" }, items.map((item) => el("li", {}, el("strong", {}, item.name || "the data"),
        `: ${item.license || "terms not stated"}`, link(item.url))))] : []));
  }

  const PART_NAMES = { trailer: "the trailer (video and soundtrack)", poster: "the poster", plot: "the plot",
                       title: "the title", metadata: "catalogue facts" };
  const KINDS = { number: "number", category: "category (text)", list: "list (of text)", date: "date" };
  // 2100, 0.5, 1,000,000,000,000: thousands grouped only from 10,000 up, so that years read as years
  const plain = (n) => n.toLocaleString("en-US", { maximumFractionDigits: 6, useGrouping: Math.abs(n) >= 10000 });
  const movies = (n) => `${n} training ${n === 1 ? "movie" : "movies"}`;

  function listed(items) {
    return items.length > 1 ? `${items.slice(0, -1).join(", ")} and ${items[items.length - 1]}` : items.join("");
  }

  function bounds(field) {
    const low = typeof field.minimum === "number" ? plain(field.minimum) : null;
    const high = typeof field.maximum === "number" ? plain(field.maximum) : null;
    if (field.kind === "number") {
      const range = low !== null && high !== null ? `${low} to ${high}` : low !== null ? `at least ${low}`
        : high !== null ? `at most ${high}` : "any";
      return field.integer ? `${range}, whole numbers` : range;
    }
    if (field.kind === "category") return `up to ${field.max_length} characters`;
    if (field.kind === "list") return `up to ${field.max_items} items, each up to ${field.max_length} characters`;
    return field.kind === "date" ? "YYYY-MM-DD or YYYY-MM" : "";
  }

  // the parts it reads, its genres, the genres it left out (with their counts) and its catalogue fields
  function renderScope(model) {
    const reads = Array.isArray(model.reads) ? model.reads : [];
    const genres = Array.isArray(model.genres) ? model.genres : [];
    $("scope").replaceChildren(...fact("Reads", listed(reads.map((p) => PART_NAMES[p] || p))),
      ...fact(`Genres (${genres.length})`, genres.join(", ")));
    const left = Object.entries(isObject(model.left_out_genres) ? model.left_out_genres : {});
    $("left-out").hidden = !left.length;
    $("left-out").textContent = left.length ? `The training data also had ${listed(left.map(([g, n]) => `${g} ` +
      `(${movies(n)})`))}. The model does not score ${left.length > 1 ? "them" : "it"}: too few training movies to learn from.` : "";
    const fields = (Array.isArray(model.metadata_fields) ? model.metadata_fields : []).filter(isObject);
    $("fields-part").hidden = !fields.length;
    $("fields").replaceChildren(head(["field", "label on the page", "kind", "bounds"]),
      el("tbody", {}, fields.map((f) => row([el("td", {}, el("code", {}, f.name)), ms.fieldLabel(String(f.name)),
        KINDS[f.kind] || f.kind, bounds(f)]))));
  }

  // name, whether the weights are pretrained, then whatever else the artifact records (checksums...)
  function backboneText(backbone) {
    if (!isObject(backbone)) return "–";
    const weights = backbone.pretrained === true ? "pretrained (ImageNet) weights" : backbone.pretrained === false
      ? "no pretrained weights (seeded random initialisation)" : "";
    const others = Object.entries(backbone).filter(([k, v]) => !["name", "pretrained"].includes(k) &&
      ["string", "number"].includes(typeof v)).map(([k, v]) => `${k.replace(/_/g, " ")} ${v}`);
    return [backbone.name, weights, ...others].filter(Boolean).join("; ");
  }

  function renderModels(card) {
    const models = isObject(card.models) ? Object.entries(card.models) : [];
    const labels = ["modality", "model", "backbone and weights", "parameters"];
    const params = (m) => Object.entries(isObject(m.params) ? m.params : {}).map(([k, v]) => `${k}=${JSON.stringify(v)}`);
    $("models").replaceChildren(head(labels), el("tbody", {}, models.map(([modality, m]) => el("tr", {},
      [modality, m.name || "", backboneText(m.backbone), params(m).join(", ")]
        .map((text, i) => el("td", { "data-label": labels[i] }, text))))));
  }

  // what each modality's model was trained on, and how an input unlike it is judged and treated
  function renderTypicality(card) {
    const t = isObject(card.typicality) ? card.typicality : {};
    const modalities = isObject(t.modalities) ? Object.entries(t.modalities) : [];
    const treated = t.policy === "keep" ? "it is still fused (MOVIESCOPE_OOD_POLICY=keep), and the answer says so"
      : "it is left out of the fusion, and the answer says so";
    $("typicality-method").textContent = modalities.length ? `${t.method || ""} An input above the ` +
      `${t.percentile ?? 99}th percentile is out of distribution: ${treated}.` : "";
    const labels = ["modality", "trained on", "an input is described by", "held-out inputs that calibrate it"];
    $("typicality").replaceChildren(head(labels), el("tbody", {}, modalities.map(([modality, m]) => el("tr", {},
      (isObject(m) ? [modality, m.trained_on, m.describes, String(m.n_calibration ?? "")]
        : [modality, "not recorded", "not judged (trained before typicality existed)", ""])
        .map((text, i) => el("td", { "data-label": labels[i] }, text))))));
  }

  // shade relative to the table's largest weight, so that small differences still show
  function heatCell(weight, largest) {
    const cell = el("td", { class: "heat" }, typeof weight === "number" ? weight.toFixed(2) : "–");
    if (typeof weight === "number" && largest > 0) {
      const shade = Math.max(0, Math.min(1, weight / largest));
      cell.style.backgroundColor = `rgba(29, 78, 216, ${(0.85 * shade).toFixed(3)})`;
      if (shade > 0.6) cell.classList.add("dark");
    }
    return cell;
  }

  function renderFusion(model) {
    const weights = isObject(model.fusion_weights) ? model.fusion_weights : {};
    const modalities = Object.keys(weights);
    const genres = Array.isArray(model.genres) ? model.genres : Object.keys(model.thresholds || {});
    const contributions = isObject(model.contributions) ? model.contributions : {};
    const all = modalities.flatMap((m) => Object.values(weights[m] || {})).filter((w) => typeof w === "number");
    const largest = Math.max(0, ...all);
    $("fusion").replaceChildren(head(["genre", ...modalities, "threshold"]),
      el("tbody", {}, genres.map((g) => row([el("th", { scope: "row" }, g),
        ...modalities.map((m) => heatCell((weights[m] || {})[g], largest)),
        el("td", {}, ms.pct((model.thresholds || {})[g]))]))),
      el("tfoot", {}, row([el("th", { scope: "row" }, "mean"),
        ...modalities.map((m) => heatCell(contributions[m], largest)), ""])));
  }

  function reportRow(name, values, extra, className) {
    const cells = [el("th", { scope: "row" }, name), ...values.map((v) => el("td", {}, ms.pct(v)))];
    return el("tr", { class: className }, cells, extra.map((v) => el("td", {}, v)));
  }

  function renderReport(model, card) {
    const report = card.report;
    if (!isObject(report) || !Array.isArray(report.rows)) {
      $("report-caption").textContent = "This model's artifact holds no evaluation report.";
      return;
    }
    const genres = Array.isArray(report.genres) ? report.genres : model.genres || [];
    const metrics = (r) => [r.map, r.micro_ap, r.samples_ap].map((v) => ms.pct(v)).concat([r.coverage ?? ""]);
    const line = (r, name) => reportRow(name, genres.map((g) => (r.per_genre_ap || {})[g]), metrics(r),
      /ceiling|planted/i.test(name) ? "ceiling" : (name === "all (learned)" ? "served" : null));
    const rows = report.rows.filter(isObject).map((r) => line(r, `${r.name}${r.missing ? " (missing)" : ""}`));
    if (isObject(report.prior)) rows.push(line(report.prior, "Baseline (prior)"));
    const share = isObject(report.train_share)
      ? [reportRow("% of training samples", genres.map((g) => report.train_share[g]), ["", "", "", ""], "share")] : [];
    $("report-caption").textContent = `Average precision in %, ${report.split ?? "test"} split` +
      `${report.n_movies ? ` (${report.n_movies} movies)` : ""}. uAP = micro, sAP = samples; ` +
      "coverage = movies with the row's input. The service answers with “all (learned)”.";
    const genreHead = (g) => el("th", { scope: "col", title: SHORT[g] ? g : null }, SHORT[g] || g);
    $("report").replaceChildren(el("thead", {}, el("tr", {}, el("th", { scope: "col" }, "model"), genres.map(genreHead),
      ["mAP", "uAP", "sAP", "coverage"].map((c) => el("th", { scope: "col" }, c)))),
      el("tbody", {}, share, rows));
  }

  // Plots come from an authenticated API, so they are fetched with the key, and only when near the screen.
  function renderPlots(card, key) {
    const names = Array.isArray(card.plots) ? card.plots.filter((n) => /^[a-z_]+\.png$/.test(n)) : [];
    const observer = new IntersectionObserver((entries) => entries.filter((e) => e.isIntersecting).forEach(async (e) => {
      observer.unobserve(e.target);
      const response = await fetch(`/v1/model/report/${e.target.dataset.plot}`, { headers: ms.authHeaders(key) });
      if (response.ok) e.target.src = URL.createObjectURL(await response.blob());
    }), { rootMargin: "200px" });
    $("plots").replaceChildren(...names.map((name) => {
      const img = el("img", { alt: PLOT_TEXT[name] || name, "data-plot": name });
      observer.observe(img);
      return el("figure", {}, img, el("figcaption", {}, PLOT_TEXT[name] || name));
    }));
  }

  async function load(key) {
    $("loading").hidden = false;
    $("error").hidden = true;
    const [model, card] = await Promise.all([ms.getJSON("/v1/model", key), ms.getJSON("/v1/model/card", key)]);
    $("loading").hidden = true;
    const failed = [model, card].find((a) => a.status !== 200 || !isObject(a.body));
    $("key-form").hidden = !failed || failed.status !== 401;
    if (failed) {
      ms.showError($("error"), ms.describeError(failed));
      return;
    }
    $("card-title").textContent = `Model card: ${model.body.model_version}`;
    renderOverview(model.body, card.body);
    renderScope(model.body);
    renderModels(card.body);
    renderTypicality(card.body);
    renderFusion(model.body);
    renderReport(model.body, card.body);
    $("card").hidden = false;
    renderPlots(card.body, key);
  }

  document.addEventListener("DOMContentLoaded", () => {
    $("key-form").addEventListener("submit", (event) => {
      event.preventDefault();
      load($("api-key").value.trim());
    });
    load(ms.storedKey());
  });
})();
