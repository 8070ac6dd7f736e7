// Explanations from /v1/explain, for the top genres: modality shares, Grad-CAM overlays of key
// frames and the poster, the important words of the plot (and title), the top metadata fields, the motion
// and the soundtrack over the trailer's time line.
// Every part is optional: what the answer lacks is simply not drawn.
"use strict";

(() => {
  const el = ms.el;
  const MAX_GENRES = 3;
  const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

  const isObject = (value) => value !== null && typeof value === "object" && !Array.isArray(value);
  const list = (value) => (Array.isArray(value) ? value : []);
  const num = (value) => (typeof value === "number" && Number.isFinite(value) ? value : null);
  const signed = (value) => (num(value) === null ? "" : `${value >= 0 ? "+" : "−"}${Math.abs(value).toFixed(3)}`);

  function shares(fusion) {
    const parts = Object.entries(isObject(fusion) && isObject(fusion.shares) ? fusion.shares : {})
      .filter(([, share]) => num(share) !== null && share > 0);
    if (!parts.length) return null;
    const bar = el("div", { class: "stack", "aria-hidden": "true" });
    for (const [modality, share] of parts) {
      const part = el("span", { class: `share share-${modality.replace(/[^a-z]/g, "")}`, title: `${modality} ${ms.pct(share, 0)}` });
      part.style.width = `${share * 100}%`;
      bar.append(part);
    }
    return el("div", { class: "why-part" }, el("h4", {}, "Share of each modality"), bar,
      el("ul", { class: "legend" }, parts.map(([m, share]) =>
        el("li", { class: `share-key share-${m.replace(/[^a-z]/g, "")}` }, `${m} ${ms.pct(share, 0)}`))));
  }

  function overlay(entry, caption) {
    const png = typeof entry.overlay_png === "string" ? entry.overlay_png.replace(/\s/g, "") : "";
    if (!BASE64.test(png)) return null;
    return el("figure", {}, el("img", { src: `data:image/png;base64,${png}`, alt: `Grad-CAM overlay, ${caption}`,
      loading: "lazy", decoding: "async" }), el("figcaption", {}, caption));
  }

  function heatmaps(part, genre, title, captionOf) {
    const figures = list(isObject(part) && part.heatmaps).filter((h) => isObject(h) && h.genre === genre)
      .map((h) => overlay(h, captionOf(h))).filter(Boolean);
    return figures.length ? el("div", { class: "why-part" }, el("h4", {}, title), el("div", { class: "overlays" }, figures)) : null;
  }

  // The text the model read (the plot, after the title for a model that reads it) with the words that push
  // this genre marked (up: <mark>, down: <mark class="down">).
  function plotWords(tokens, plot, name) {
    const weights = new Map();
    for (const t of list(tokens).filter((t) => isObject(t) && typeof t.token === "string" && num(t.weight) !== null)) {
      for (const word of t.token.toLowerCase().split(/\s+/)) {
        if (!weights.has(word) || Math.abs(t.weight) > Math.abs(weights.get(word))) weights.set(word, t.weight);
      }
    }
    if (!weights.size) return null;
    const text = el("p", { class: "plot" });
    for (const piece of (plot || "").split(/(\s+)/)) {
      const weight = weights.get(piece.toLowerCase().replace(/^[^\p{L}\p{N}]+|[^\p{L}\p{N}]+$/gu, ""));
      text.append(weight === undefined ? piece
        : el("mark", { class: weight >= 0 ? "up" : "down", title: signed(weight) }, piece));
    }
    const top = list(tokens).slice(0, 8).map((t) => el("li", {}, `${t.token} ${signed(t.weight)}`));
    return el("div", { class: "why-part" }, el("h4", {}, `${name} words`), plot ? text : null,
      el("ul", { class: "tokens" }, top));
  }

  function metadataFields(fields) {
    const rows = list(fields).filter((f) => isObject(f) && typeof f.field === "string");
    if (!rows.length) return null;
    return el("div", { class: "why-part" }, el("h4", {}, "Catalogue facts"),
      el("table", { class: "fields" },
        el("thead", {}, el("tr", {}, el("th", { scope: "col" }, "field"), el("th", { scope: "col" }, "value"),
          el("th", { scope: "col" }, "contribution"))),
        el("tbody", {}, rows.map((f) => el("tr", {}, el("td", {}, f.field),
          el("td", {}, f.value === undefined || f.value === null ? "" : String(f.value)),
          el("td", {}, signed(num(f.contribution) !== null ? f.contribution : f.weight)))))));
  }

  // audio and motion: {"times_s": [...], "importance": {"<genre>": [numbers]}}: one bar per stretch of the
  // trailer; `detail(i)` adds to a bar's tooltip (motion: what the run measured)
  function timeline(part, genre, title, what, detail = () => "") {
    const values = list(isObject(part) && isObject(part.importance) && part.importance[genre]).map(num);
    if (!values.length || values.some((v) => v === null)) return null;
    const top = Math.max(...values.map(Math.abs)) || 1;
    const times = list(part.times_s);
    const strip = el("div", { class: "strip", role: "img", "aria-label": `importance of ${values.length} ${what}` });
    values.forEach((v, i) => {
      const bar = el("span", { class: v >= 0 ? "up" : "down",
        title: `${num(times[i]) !== null ? times[i] + " s: " : ""}${signed(v)}${detail(i)}` });
      bar.style.height = `${(100 * Math.abs(v)) / top}%`;
      strip.append(bar);
    });
    return el("div", { class: "why-part" }, el("h4", {}, title), strip);
  }

  function runMeasures(motion) {
    const measures = isObject(motion) && isObject(motion.measures) ? Object.entries(motion.measures) : [];
    return (i) => measures.map(([name, values]) => (num(list(values)[i]) === null ? ""
      : `, ${name.replace(/_/g, " ")} ${list(values)[i].toFixed(2)}`)).join("");
  }

  function explainedGenres(explanation, genres) {
    const named = new Set();
    for (const part of [explanation.fusion, explanation.text, explanation.metadata]) {
      if (isObject(part)) Object.keys(part).forEach((g) => named.add(g));
    }
    for (const part of [explanation.video, explanation.poster]) {
      list(isObject(part) && part.heatmaps).forEach((h) => isObject(h) && named.add(h.genre));
    }
    return genres.filter((g) => named.has(g.genre)).slice(0, MAX_GENRES);
  }

  // `plot`: the text the text model read; `name`: what it is ("Plot", "Title and plot")
  window.explainView = (result, genres, plot, name = "Plot") => {
    const explanation = result.explanation;
    if (!isObject(explanation)) return null;
    const sections = explainedGenres(explanation, genres).map((g) => {
      const parts = [
        shares(isObject(explanation.fusion) ? explanation.fusion[g.genre] : null),
        heatmaps(explanation.video, g.genre, "Key frames", (h) => (num(h.time_s) !== null ? `frame at ${h.time_s.toFixed(1)} s` : "key frame")),
        heatmaps(explanation.poster, g.genre, "Poster", () => "poster"),
        plotWords(isObject(explanation.text) ? explanation.text[g.genre] : null, plot, name),
        metadataFields(isObject(explanation.metadata) ? explanation.metadata[g.genre] : null),
        timeline(explanation.motion, g.genre, "Motion", "runs of frames", runMeasures(explanation.motion)),
        timeline(explanation.audio, g.genre, "Soundtrack", "stretches of the soundtrack"),
      ].filter(Boolean);
      return parts.length ? el("section", { class: "why" }, el("h3", {}, `Why ${g.genre} (${ms.pct(g.score)})`), parts) : null;
    }).filter(Boolean);
    return sections.length ? el("div", { class: "explanations" }, el("h2", {}, "Why these genres"), sections) : null;
  };
})();
