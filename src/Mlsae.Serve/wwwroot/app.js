// The MLSAE explorer: plain DOM code, no build step, no CDN. Every number comes from the /api
// routes of `mlsae serve`; the page keeps only what the user selected.
"use strict";

const state = { info: null, prompt: null, body: null, pos: null, latent: null, threshold: 0 };

// --- helpers ---------------------------------------------------------------------------------
function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") node.className = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v);
  }
  for (const c of children.flat()) node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return node;
}

async function api(path, body) {
  const init = body === undefined ? {} : { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) };
  const response = await fetch("/api" + path, init);
  const json = await response.json();
  if (!response.ok) throw new Error(json.error || response.statusText);
  return json;
}

function showError(e) {
  const p = document.getElementById("error");
  p.hidden = !e;
  p.textContent = e ? "error: " + e.message : "";
}

const fmt = (x, d = 3) => (x === null || x === undefined ? "—" : Number(x).toFixed(d));

// Whitespace made visible: a space is ·, a newline ↵, a tab →.
function visible(text) {
  const span = el("span");
  for (const ch of text) {
    if (ch === " ") span.append(el("span", { class: "ws" }, "·"));
    else if (ch === "\n") span.append(el("span", { class: "ws" }, "↵"));
    else if (ch === "\t") span.append(el("span", { class: "ws" }, "→"));
    else span.append(ch);
  }
  return span;
}

function shade(node, value, max) {
  const a = max > 0 ? Math.min(1, Math.max(0, value / max)) : 0;
  node.style.backgroundColor = `rgba(37, 99, 235, ${a.toFixed(3)})`;
  node.style.color = a > 0.6 ? "white" : "";
}

function logitsTable(rows, title) {
  return el("table", {}, el("tr", {}, el("th", {}, title), el("th", {}, "logit"), el("th", {}, "prob")),
    rows.map(r => el("tr", {}, el("td", {}, visible(r.text)), el("td", {}, fmt(r.logit)), el("td", {}, r.prob === undefined ? "" : fmt(r.prob)))));
}

// --- prompt page -----------------------------------------------------------------------------
// Per position, every latent's activation by layer: { latent: [value per layer] }.
function latentsAt(prompt, pos) {
  const byLatent = new Map();
  prompt.latents.forEach((layer, l) => {
    const codes = layer[pos];
    codes.indices.forEach((f, j) => {
      if (!byLatent.has(f)) byLatent.set(f, new Array(prompt.layers.length).fill(0));
      byLatent.get(f)[l] = codes.values[j];
    });
  });
  return byLatent;
}

// A latent's largest activation over layers at each position.
function latentByPosition(prompt, latent) {
  return prompt.tokens.map((_, t) => Math.max(0, ...prompt.latents.map(layer => {
    const j = layer[t].indices.indexOf(latent);
    return j < 0 ? 0 : layer[t].values[j];
  })));
}

function promptView() {
  const view = el("div", { id: "prompt-view" });
  const text = el("textarea", { id: "prompt-text", rows: "3", placeholder: "Type a prompt" });
  text.value = state.body?.text ?? "The old keys that the baker found near the river are red.";
  const submit = el("button", { id: "submit", onclick: async () => {
    try {
      showError(null);
      state.body = state.info.model.tokenizer ? { text: text.value } : { input_ids: text.value.split(/[\s,]+/).filter(s => s).map(Number) };
      state.prompt = await api("/prompt", state.body);
      state.pos = null;
      renderPrompt();
    } catch (e) { showError(e); }
  } }, "Analyse");
  view.append(el("p", { class: "muted" }, state.info.model.tokenizer ? "" : "This model has no tokenizer: enter token ids."), text, submit,
    el("div", { id: "loss" }), el("div", { id: "strip", class: "strip" }), el("div", { id: "position" }));
  return view;
}

function renderPrompt() {
  const prompt = state.prompt;
  document.getElementById("loss").textContent = `${prompt.tokens.length} tokens, loss ${fmt(prompt.loss)}` + (state.latent !== null ? `, shaded by latent ${state.latent}` : "");
  const strip = document.getElementById("strip");
  strip.replaceChildren();
  const acts = state.latent === null ? null : latentByPosition(prompt, state.latent);
  const max = acts ? Math.max(...acts) : 0;
  prompt.tokens.forEach((token, t) => {
    const span = el("span", { class: "token" + (t === state.pos ? " selected" : ""), "data-pos": String(t), title: `id ${token.id}`,
      onclick: () => { state.pos = t; renderPrompt(); } }, visible(token.text));
    if (acts) shade(span, acts[t], max);
    strip.append(span);
  });
  const panel = document.getElementById("position");
  panel.replaceChildren();
  if (state.pos !== null) panel.append(positionPanel(prompt, state.pos));
}

function positionPanel(prompt, pos) {
  const byLatent = latentsAt(prompt, pos);
  const layers = prompt.layers;
  // Mean layer of each latent at this position: Σ l·v / Σ v over the layer list.
  const rows = [...byLatent.entries()].map(([f, v]) => {
    const sum = v.reduce((a, b) => a + b, 0);
    return { f, v, max: Math.max(...v), mean: sum > 0 ? v.reduce((a, x, l) => a + l * x, 0) / sum : Infinity };
  }).filter(r => r.max > 0).sort((a, b) => a.mean - b.mean || a.f - b.f);
  const max = Math.max(0, ...rows.map(r => r.max));
  const heat = el("table", { id: "heatmap" });
  const slider = el("input", { type: "range", id: "threshold", min: "0", max: String(max || 1), step: String((max || 1) / 100), value: String(state.threshold) });
  const label = el("span", {}, ` threshold ${fmt(state.threshold)}`);
  function fill() {
    heat.replaceChildren(el("tr", {}, el("th", {}, "latent"), layers.map(l => el("th", {}, `L${l}`)), el("th", {}, "mean layer")));
    for (const r of rows.filter(r => r.max >= state.threshold * (1 - 1e-9))) {
      const tr = el("tr", { class: "latent-row" + (r.f === state.latent ? " selected" : ""), "data-latent": String(r.f) },
        el("td", {}, el("a", { href: `#/latent/${r.f}` }, String(r.f))),
        r.v.map(x => { const td = el("td", { class: "cell" }, x > 0 ? fmt(x, 2) : ""); shade(td, x, max); return td; }),
        el("td", {}, fmt(r.mean, 2)));
      tr.addEventListener("click", e => { if (e.target.tagName !== "A") { state.latent = r.f; renderPrompt(); } });
      heat.append(tr);
    }
  }
  slider.addEventListener("input", () => { state.threshold = Number(slider.value); label.textContent = ` threshold ${fmt(state.threshold)}`; fill(); });
  fill();
  const token = prompt.tokens[pos];
  return el("div", {},
    el("h3", {}, "Position ", String(pos), ": ", visible(token.text), ` (id ${token.id})`),
    el("div", { class: "panels" },
      el("div", {}, el("h4", {}, "Latents × layers at this position (click a row to shade the prompt by it)"), slider, label, heat),
      el("div", {}, logitsTabs(prompt, pos), el("h4", {}, "Histograms of the prompt's active codes by layer"), histograms(prompt))));
}

function histograms(prompt) {
  const box = el("div", { class: "hists" });
  prompt.histograms.forEach((h, l) => {
    const max = Math.max(1, ...h.counts);
    const bars = el("div", { class: "hist", title: `0 … ${fmt(h.edges[h.edges.length - 1])}` });
    for (const c of h.counts) { const d = el("div"); d.style.height = `${(60 * c / max).toFixed(1)}px`; bars.append(d); }
    box.append(el("div", {}, el("div", { class: "muted" }, `layer ${prompt.layers[l]}`), bars));
  });
  return box;
}

function logitsTabs(prompt, pos) {
  const box = el("div", { id: "logits" });
  const content = el("div", { id: "logits-content" });
  const tabs = el("div", { class: "tabs" });
  const layerSelect = () => {
    const s = el("select", { id: "layer" }, prompt.layers.map(l => el("option", { value: String(l) }, `layer ${l}`)));
    s.value = String(state.layer ?? prompt.layers[0]);
    s.addEventListener("change", () => { state.layer = Number(s.value); });
    return s;
  };
  const shift = (r, title) => el("div", { class: "panels" },
    el("div", {}, logitsTable(r.positions[pos].logits, title)),
    el("div", {}, logitsTable(r.positions[pos].increases, "increases"), logitsTable(r.positions[pos].decreases, "decreases")));
  const show = {
    input: () => content.replaceChildren(logitsTable(prompt.logits[pos], "next token")),
    reconstruction: () => {
      const select = layerSelect();
      const out = el("div", { id: "recon-out" });
      const run = async () => {
        try {
          const r = await api("/prompt/reconstruct", { ...state.body, layer: Number(select.value) });
          out.replaceChildren(el("p", {}, `ΔCE ${fmt(r.delta_ce, 4)}`), shift(r, "after"));
        } catch (e) { showError(e); }
      };
      select.addEventListener("change", run);
      content.replaceChildren(select, out);
      run();
    },
    steering: () => {
      const select = layerSelect();
      const latent = el("input", { id: "steer-latent", type: "number", min: "0", max: String(state.info.sae.latents - 1), value: String(state.latent ?? prompt.latents[0][pos].indices[0]) });
      const factor = el("input", { id: "factor", type: "range", min: "-50", max: "50", step: "1", value: "0" });
      const label = el("span", { id: "factor-label" }, "factor 0");
      const out = el("div", { id: "steer-out" });
      let pending = 0;
      const run = async () => {
        const mine = ++pending;
        label.textContent = `factor ${factor.value}`;
        try {
          const r = await api("/prompt/steer", { ...state.body, layer: Number(select.value), latent: Number(latent.value), factor: Number(factor.value) });
          if (mine === pending) out.replaceChildren(el("p", {}, `ΔCE ${fmt(r.delta_ce, 4)}`), shift(r, "steered"));
        } catch (e) { showError(e); }
      };
      for (const c of [select, latent]) c.addEventListener("change", run);
      factor.addEventListener("input", run);
      content.replaceChildren(select, " latent ", latent, " ", factor, label, out);
      run();
    },
  };
  for (const name of Object.keys(show)) {
    tabs.append(el("button", { id: `tab-${name}`, onclick: e => {
      for (const b of tabs.children) b.classList.toggle("active", b === e.target);
      show[name]();
    } }, name));
  }
  tabs.firstChild.classList.add("active");
  show.input();
  box.append(el("h4", {}, "Logits at this position"), tabs, content);
  return box;
}

// --- latent page -----------------------------------------------------------------------------
function exampleLine(x) {
  const max = Math.max(...x.acts, 1e-9);
  return el("div", { class: "example" }, el("span", { class: "muted" }, `${x.layer === null ? "" : `L${x.layer} `}${fmt(x.act, 2)}  `),
    x.tokens.map((t, i) => { const s = el("span", { class: "tok" + (i === x.offset ? " hit" : "") }, visible(t.text)); shade(s, x.acts[i], max); return s; }));
}

async function latentView(i) {
  const x = await api(`/latent/${i}`);
  const view = el("div", { id: "latent-view" }, el("h2", {}, `Latent ${x.latent}`),
    el("p", {}, `mean layer ${fmt(x.mean_layer, 2)}, layer std ${fmt(x.layer_std, 2)}, frequency ${fmt(x.frequency, 5)}` + (x.top_token ? `, top token "${x.top_token}"` : "")));
  if (x.shares) {
    const bars = el("div", { class: "bars", id: "layer-dist" });
    x.shares.forEach((s, l) => { const d = el("div", { title: `${fmt(s)} of activation, ${x.counts[l]} selections` }, el("span", {}, `L${x.layers[l]}`)); d.style.height = `${(110 * (s || 0)).toFixed(1)}px`; bars.append(d); });
    const crosscoder = x.kind === "crosscoder";
    view.append(el("h3", {}, crosscoder ? "Distribution over layers (share of its activation-weighted reconstruction)" : "Distribution over layers (share of activation)"), bars, el("br"));
  } else view.append(el("p", { class: "muted" }, "No dists loaded: no layer distribution."));
  if (x.decoder_share) {
    // A crosscoder latent: the share of its decoder norm at each layer.
    const bars = el("div", { class: "bars", id: "decoder-share" });
    x.decoder_share.forEach((s, l) => { const d = el("div", { title: `${fmt(s)} of the decoder norm` }, el("span", {}, `L${x.layers[l]}`)); d.style.height = `${(110 * (s || 0)).toFixed(1)}px`; bars.append(d); });
    view.append(el("h3", {}, "Decoder-norm share over layers"), bars, el("br"));
  }
  view.append(el("h3", {}, "Density"), el("p", {}, `firing frequency ${fmt(x.density.frequency, 5)} (log10 ${fmt(x.density.log10_frequency, 2)})`));
  if (x.density.histogram) {
    const h = x.density.histogram, max = Math.max(1, ...h.counts);
    const fromDists = h.source === "dists";
    const bars = el("div", { class: "hist", id: "density-hist", title: fromDists ? "positive activations over all the data (dists), log-spaced bins" : "activations of the stored top examples" });
    // Log bins over six decades: show the span that holds counts.
    let lo = 0, hi = h.counts.length - 1;
    while (lo < hi && !h.counts[lo]) lo++;
    while (hi > lo && !h.counts[hi]) hi--;
    for (let b = lo; b <= hi; b++) { const d = el("div", { title: `${fmt(h.edges[b], 4)} … ${fmt(h.edges[b + 1], 4)}: ${h.counts[b]}` }); d.style.height = `${(60 * h.counts[b] / max).toFixed(1)}px`; d.style.width = "10px"; bars.append(d); }
    view.append(bars, el("p", { class: "muted" }, fromDists
      ? `positive activations over all the data, log scale ${fmt(h.edges[lo], 3)} … ${fmt(h.edges[hi + 1], 3)}`
      : `activations of the stored examples, 0 … ${fmt(h.edges[h.edges.length - 1], 2)}`));
  }
  if (x.logits) view.append(el("h3", {}, x.logits.layer === null || x.logits.layer === undefined ? "Logits of the decoder direction" : `Logits of the decoder direction at layer ${x.logits.layer}`), el("div", { class: "panels" }, logitsTable(x.logits.top, "top"), logitsTable(x.logits.bottom, "bottom")));
  if (x.examples) {
    view.append(el("h3", {}, "Top examples by layer"));
    for (const group of x.examples.by_layer) {
      view.append(el("h4", {}, group.layer === null ? "all layers (one code per token)" : `layer ${group.layer}`), ...(group.examples.length ? group.examples.map(exampleLine) : [el("p", { class: "muted" }, "none")]));
    }
    view.append(el("h3", {}, "Examples across activation quantiles (of the stored examples)"));
    for (const bin of x.examples.by_quantile) {
      view.append(el("h4", {}, `${(100 * bin.from_quantile).toFixed(0)}–${(100 * bin.to_quantile).toFixed(0)}% (act ${fmt(bin.min_act, 2)} … ${fmt(bin.max_act, 2)})`), ...bin.examples.map(exampleLine));
    }
  } else view.append(el("p", { class: "muted" }, "No examples database loaded."));
  return view;
}

// --- latents list and run overview -----------------------------------------------------------
async function latentsView() {
  const view = el("div", { id: "latents-view" });
  const q = el("input", { id: "q", placeholder: "latent index or token" });
  const sort = el("select", { id: "sort" }, ["mean_layer", "frequency", "layer_std", "index"].map(s => el("option", { value: s }, s)));
  const list = el("div");
  const load = async () => {
    try {
      const page = await api(`/latents?sort=${sort.value}&q=${encodeURIComponent(q.value)}&limit=200`);
      list.replaceChildren(el("p", {}, `${page.total} latents`), el("table", {}, el("tr", {}, ["latent", "mean layer", "layer std", "frequency", "top token"].map(h => el("th", {}, h))),
        page.latents.map(r => el("tr", {}, el("td", {}, el("a", { href: `#/latent/${r.latent}` }, String(r.latent))), el("td", {}, fmt(r.mean_layer, 2)),
          el("td", {}, fmt(r.layer_std, 2)), el("td", {}, fmt(r.frequency, 5)), el("td", {}, r.top_token === null ? "" : visible(r.top_token))))));
    } catch (e) { showError(e); }
  };
  q.addEventListener("change", load);
  sort.addEventListener("change", load);
  view.append(el("h2", {}, "Latents"), q, " ", sort, list);
  await load();
  return view;
}

async function runView() {
  const view = el("div", { id: "run-view" });
  let run;
  try { run = await api("/run"); } catch (e) { view.append(el("p", {}, e.message)); return view; }
  view.append(el("h2", {}, `Run ${run.name}`));
  if (run.eval) view.append(el("h3", {}, "Metrics"), el("table", { id: "metrics" }, el("tr", {}, run.eval.headers.map(h => el("th", {}, h))), run.eval.rows.map(r => el("tr", {}, r.map(c => el("td", {}, c))))));
  if (state.info.data.dists) view.append(el("h3", {}, "Latents over layers (click a column for its latent)"), await distsHeatmap());
  view.append(el("h3", {}, "Figures"));
  for (const f of run.figures) view.append(el("h4", {}, f.name), el("img", { class: "figure", alt: f.name, src: `data:image/png;base64,${f.png}` }));
  return view;
}

// The paper's main figure, live: one column per active latent sorted by mean layer, one row per layer.
async function distsHeatmap() {
  const page = await api("/latents?sort=mean_layer&limit=5000");
  const active = page.latents.filter(r => r.mean_layer !== null);
  const rows = page.layers.length, cols = Math.max(1, active.length);
  const w = Math.min(4, Math.max(1, Math.floor(1200 / cols))), h = 24;
  const canvas = el("canvas", { id: "dists", width: String(cols * w), height: String(rows * h) });
  const ctx = canvas.getContext("2d");
  active.forEach((r, c) => r.shares.forEach((s, l) => { ctx.fillStyle = `rgba(37, 99, 235, ${Math.min(1, s || 0).toFixed(3)})`; ctx.fillRect(c * w, l * h, w, h); }));
  canvas.addEventListener("click", e => {
    const c = Math.floor((e.offsetX / canvas.clientWidth) * cols);
    if (active[c]) location.hash = `#/latent/${active[c].latent}`;
  });
  return el("div", {}, canvas, el("p", { class: "muted" }, `${active.length} active latents; rows: layers ${page.layers.join(", ")}`));
}

// --- routing ---------------------------------------------------------------------------------
async function route() {
  showError(null);
  const main = document.getElementById("view");
  const hash = location.hash || "#/";
  try {
    let view;
    const m = hash.match(/^#\/latent\/(\d+)$/);
    if (m) view = await latentView(Number(m[1]));
    else if (hash === "#/run") view = await runView();
    else if (hash === "#/latents") view = await latentsView();
    else view = promptView();
    main.replaceChildren(view);
    if (!m && hash !== "#/run" && hash !== "#/latents" && state.prompt) renderPrompt();
  } catch (e) { showError(e); }
}

async function start() {
  try {
    state.info = await api("/info");
    const i = state.info;
    document.getElementById("info").textContent = `${i.model.id} · ${i.sae.kind} ${i.sae.latents} latents, k ${i.sae.k}, layers ${i.sae.layers.join(",")}`;
  } catch (e) { showError(e); return; }
  window.addEventListener("hashchange", route);
  await route();
}

start();
