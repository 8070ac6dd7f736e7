// Shared by the pages: building elements safely, field labels, the API key, and readable error messages.
// Server strings only ever reach the page as text nodes (never innerHTML).
"use strict";

const ms = (() => {
  const KEY_STORE = "moviescope-api-key";

  // el("li", {class: "bar"}, "text", childNode, ...): attributes and text, no HTML parsing
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) {
      if (value !== null && value !== undefined && value !== false) node.setAttribute(name, value);
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined || child === "") continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  // the IMDB-5000 and MovieLens names; other fields get a label from their name
  const LABELS = {
    year: "Year", runtime_min: "Runtime (min)", imdb_score: "IMDb score", budget_usd: "Budget (USD)",
    gross_usd: "Gross (USD)", num_voted_users: "IMDb user votes", num_critic_for_reviews: "Critic reviews",
    num_user_for_reviews: "User reviews", movie_facebook_likes: "Facebook likes of the movie",
    director_facebook_likes: "Facebook likes of the director", actor_1_facebook_likes: "Facebook likes of actor 1",
    actor_2_facebook_likes: "Facebook likes of actor 2", actor_3_facebook_likes: "Facebook likes of actor 3",
    facenumber_in_poster: "Faces on the poster", content_rating: "Content rating", language: "Language",
    country: "Country", movielens_ratings: "MovieLens ratings", movielens_mean_rating: "MovieLens mean rating",
  };
  const WORDS = { imdb: "IMDb", movielens: "MovieLens", tmdb: "TMDB", mpaa: "MPAA", usd: "USD", tv: "TV", id: "ID",
                  num: "number of" };
  const UNITS = { min: "min", usd: "USD", s: "s", pct: "%", px: "px" };

  // "rating_share_3" -> "Rating share 3", "length_min" -> "Length (min)", "releaseDate" -> "Release date"
  function fieldLabel(name) {
    if (LABELS[name]) return LABELS[name];
    const words = name.replace(/([a-z])([A-Z])/g, "$1 $2").split(/[\s_\-.]+/).filter(Boolean).map((w) => w.toLowerCase());
    const unit = words.length > 1 ? UNITS[words[words.length - 1]] : undefined;
    if (unit) words.pop();
    const text = words.map((w) => WORDS[w] || w).join(" ");
    if (!text) return name;
    const sentence = text.charAt(0).toUpperCase() + text.slice(1);
    return unit ? `${sentence} (${unit})` : sentence;
  }

  function pct(value, digits = 1) {
    return typeof value === "number" && Number.isFinite(value) ? `${(100 * value).toFixed(digits)}%` : "–";
  }

  // The key lives in the field (memory); session storage only when the user ticks "keep".
  function storedKey() {
    try { return sessionStorage.getItem(KEY_STORE) || ""; } catch (err) { return ""; }
  }

  function rememberKey(key, keep) {
    try {
      if (keep && key) sessionStorage.setItem(KEY_STORE, key);
      else sessionStorage.removeItem(KEY_STORE);
    } catch (err) { /* storage disabled: the key stays in the field only */ }
  }

  function authHeaders(key) {
    return key ? { Authorization: `Bearer ${key}` } : {};
  }

  function parseJSON(text) {
    try { return JSON.parse(text); } catch (err) { return null; }
  }

  // GET a JSON endpoint -> {status, body, retryAfter}; a network failure is status 0.
  async function getJSON(url, key) {
    try {
      const response = await fetch(url, { headers: authHeaders(key), cache: "no-store" });
      const body = parseJSON(await response.text());
      return { status: response.status, body, retryAfter: response.headers.get("Retry-After") };
    } catch (err) {
      return { status: 0, body: null, retryAfter: null };
    }
  }

  const TITLES = {
    0: "The connection failed before the server answered.",
    401: "This server needs an API key. Enter it in the API key field and try again.",
    404: "The server does not offer this.",
    413: "A file is larger than this server accepts.",
    415: "A file is not of a type this server accepts.",
    422: "The server could not use this input.",
    500: "The server failed unexpectedly.",
    503: "The server is busy or still loading its model.",
  };

  // FastAPI's detail is a string, or a list of {loc, msg} for a malformed form.
  function detailText(detail) {
    if (typeof detail === "string") return detail;
    if (Array.isArray(detail)) {
      return detail.map((item) => {
        const where = Array.isArray(item && item.loc) ? item.loc.filter((p) => p !== "body").join(".") : "";
        return `${where ? where + ": " : ""}${item && item.msg ? item.msg : "invalid"}`;
      }).join("; ");
    }
    return "";
  }

  // {status, body, retryAfter} -> {title, detail} for a person
  function describeError(answer) {
    const status = answer.status;
    const title = TITLES[status] || `The server answered with an error (HTTP ${status}).`;
    let detail = detailText(answer.body && answer.body.detail);
    if (status === 0) detail = "Check that the server is running. A file far over the size limit may also be refused this way.";
    if (status === 503 && answer.retryAfter) detail = `${detail ? detail + ". " : ""}Try again in ${answer.retryAfter} s.`;
    return { status, title, detail };
  }

  function showError(box, error) {
    box.replaceChildren(el("strong", {}, error.title), ...(error.detail ? [el("p", {}, error.detail)] : []));
    box.dataset.status = String(error.status || "");
    box.hidden = false;
  }

  return { el, fieldLabel, pct, storedKey, rememberKey, authHeaders, parseJSON, getJSON, describeError, showError };
})();
