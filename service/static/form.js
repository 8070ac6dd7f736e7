// The upload form, shaped by the loaded model (GET /v1/model): only the parts it reads, and one input per
// catalogue field it reads. Until the model is known, the static form shows every part and the usual fields.
// Nothing typed is lost when the form changes shape: a filled input the model does not read stays, marked so,
// and is sent; the answer then names it as not used.
"use strict";

const movieForm = (() => {
  const el = ms.el;
  const $ = (id) => document.getElementById(id);
  const PARTS = ["trailer", "poster", "title", "plot", "metadata"];  // the form's order
  const PART_NAMES = { trailer: "the trailer", poster: "the poster", title: "the title", plot: "the plot",
                       metadata: "catalogue facts" };
  const FILES = ["trailer", "poster"];
  const TEXTS = ["title", "plot"];
  const UNREAD = "not read by this model";
  const OPTIONS = { content_rating: "ratings" };  // fields with a datalist of usual values

  function slug(name) {
    return name.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "") || "field";
  }

  function inputFor(spec, id) {
    const common = { id, "data-key": spec.name, "data-kind": spec.kind, autocomplete: "off" };
    if (spec.kind === "number") {
      return el("input", { ...common, type: "number", min: spec.minimum ?? null, max: spec.maximum ?? null,
                           step: spec.integer ? "1" : "any", inputmode: spec.integer ? "numeric" : "decimal" });
    }
    if (spec.kind === "date") return el("input", { ...common, type: "date" });
    if (spec.kind === "list") return el("input", { ...common, type: "text" });
    return el("input", { ...common, type: "text", maxlength: spec.max_length ?? null, list: OPTIONS[spec.name] || null });
  }

  // the input a field had before (its value, the focus) takes the new field's attributes when it can
  function adopt(fresh, old) {
    if (!old) return fresh;
    if (old.type !== fresh.type) {
      fresh.value = old.value;
      return fresh;
    }
    for (const name of old.getAttributeNames()) if (!fresh.hasAttribute(name)) old.removeAttribute(name);
    for (const { name, value } of fresh.attributes) old.setAttribute(name, value);
    return old;
  }

  function hint(text) {
    return el("span", { class: "hint" }, `(${text})`);
  }

  function fieldBlock(spec, input, unread) {
    const hints = [spec.kind === "list" ? hint("comma-separated") : null, unread ? hint(UNREAD) : null];
    return el("div", { class: unread ? "field unread" : "field" },
      el("label", { for: input.id }, ms.fieldLabel(spec.name), ...hints.filter(Boolean).flatMap((h) => [" ", h])), input);
  }

  function filled(input) {
    return Boolean(input.value.trim()) || input.validity.badInput;
  }

  // One input per field the model reads (in its order), then the filled inputs of fields it does not read.
  function applyFields(fields) {
    const box = $("metadata");
    const focused = document.activeElement;
    const before = new Map([...box.querySelectorAll("input[data-key]")].map((input) => [input.dataset.key, input]));
    const ids = new Set();
    const uniqueId = (name) => {
      let id = `m-${slug(name)}`;
      for (let n = 2; ids.has(id); n++) id = `m-${slug(name)}-${n}`;
      ids.add(id);
      return id;
    };
    const read = fields.map((spec) => fieldBlock(spec, adopt(inputFor(spec, uniqueId(spec.name)), before.get(spec.name))));
    const names = new Set(fields.map((spec) => spec.name));
    const unread = [...before.values()].filter((input) => !names.has(input.dataset.key) && filled(input))
      .map((input) => {
        input.id = uniqueId(input.dataset.key);
        return fieldBlock({ name: input.dataset.key, kind: input.dataset.kind }, input, true);
      });
    box.replaceChildren(box.querySelector("legend"), ...read, ...unread, ...box.querySelectorAll("datalist"));
    box.hidden = !read.length && !unread.length;
    if (focused && focused.isConnected && document.activeElement !== focused) focused.focus();
  }

  // catalogue facts count when a field the model reads (or, before the model is known, any field) is filled
  function partFilled(part) {
    if (FILES.includes(part)) return $(part).files.length > 0;
    if (TEXTS.includes(part)) return Boolean($(part).value.trim());
    return [...$("metadata").querySelectorAll(".field:not(.unread) input[data-key]")].some(filled);
  }

  function markUnread(field, unread) {
    const label = field.querySelector("label");
    const note = label.querySelector(".unread-note");
    if (unread && !note) label.append(" ", el("span", { class: "hint unread-note" }, `(${UNREAD})`));
    if (!unread && note) note.remove();
    field.classList.toggle("unread", unread);
  }

  // The parts the model reads are shown; another part stays only while it holds something (marked: not read).
  function applyParts(reads) {
    const fields = [...FILES, ...TEXTS].map((part) => document.querySelector(`[data-part="${part}"]`));
    for (const field of fields) {
      const read = reads.includes(field.dataset.part);
      field.hidden = !read && !partFilled(field.dataset.part);
      markUnread(field, !read);
    }
    $("parts").hidden = fields.every((field) => field.hidden);
  }

  // "a, b or c"
  function listed(items, last = "or") {
    return items.length > 1 ? `${items.slice(0, -1).join(", ")} ${last} ${items[items.length - 1]}` : items.join("");
  }

  function partNames(parts) {
    return parts.map((part) => PART_NAMES[part] || part);
  }

  function describeModel(model) {
    const reads = readsOf(model);
    const genres = Array.isArray(model.genres) ? model.genres.length : 0;
    $("lead").textContent = `This model reads ${listed(partNames(reads), "and")}: give at least one. Each part is ` +
      `scored on its own, then the scores are fused into the model's ${genres} genres.`;
  }

  // the parts a model reads; an older server that does not say: every part
  function readsOf(model) {
    return model && Array.isArray(model.reads) && model.reads.length ? model.reads : PARTS;
  }

  function apply(model) {
    applyParts(readsOf(model));
    applyFields(Array.isArray(model.metadata_fields) ? model.metadata_fields : []);
    describeModel(model);
    $("predict-form").dataset.model = model.model_version || "";
  }

  function filledParts() {
    return PARTS.filter(partFilled);
  }

  // null when the form holds a part the model reads; else why not, and where to type
  function refusal(model) {
    const reads = readsOf(model);
    if (filledParts().some((part) => reads.includes(part))) return null;
    const title = model ? `Give ${listed(partNames(reads))} first: this model reads nothing else.`
      : `Give at least one part of the movie first: ${listed(partNames(reads))}.`;
    const first = reads.map((part) => (part === "metadata" ? $("metadata").querySelector(".field:not(.unread) input[data-key]") : $(part)))
      .find((input) => input && !input.closest("[hidden]"));
    return { status: 0, title, detail: "", target: first || null };
  }

  function labelOf(input) {
    const label = document.querySelector(`label[for="${input.id}"]`);
    return label && label.firstChild ? label.firstChild.textContent.trim() : input.dataset.key;
  }

  // one field's value as the metadata JSON wants it (undefined: empty); throws a readable error for bad input
  function fieldValue(input) {
    if (input.validity.badInput) {
      const what = input.type === "date" ? "not a complete date" : "not a number";
      throw { status: 422, title: `${labelOf(input)}: ${what}.`, detail: "", target: input };
    }
    const text = input.value.trim();
    if (!text) return undefined;
    if (input.dataset.kind === "number") return Number(text);
    if (input.dataset.kind === "list") {
      const items = text.split(",").map((item) => item.trim()).filter(Boolean);
      return items.length ? items : undefined;
    }
    return text;  // a category, or a date input's YYYY-MM-DD
  }

  // -> the metadata JSON text, or null when no field is filled
  function collectMetadata() {
    const metadata = {};
    for (const input of $("metadata").querySelectorAll("input[data-key]")) {
      const value = fieldValue(input);
      if (value !== undefined) metadata[input.dataset.key] = value;
    }
    return Object.keys(metadata).length ? JSON.stringify(metadata) : null;
  }

  function formData(metadata) {
    const data = new FormData();
    for (const part of FILES) if ($(part).files.length) data.append(part, $(part).files[0]);
    for (const part of TEXTS) {
      const text = $(part).value.trim();
      if (text) data.append(part, text);
    }
    if (metadata) data.append("metadata", metadata);
    return data;
  }

  return { apply, refusal, collectMetadata, formData, readsOf, partNames, listed };
})();
