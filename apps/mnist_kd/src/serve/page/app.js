// The page of `mnist_kd serve`: a drawing pad, MNIST's preprocessing, and every model's
// distribution at the temperature of the slider. No framework and no build step: this file is
// served as it is, and works offline.
//
// Reading order: softmax and entropy (the math), mnistImage (the preprocessing), then the views.
"use strict";

// ---------------------------------------------------------------- the math

/** p_i = exp(z_i / T) / Σ_j exp(z_j / T), computed from z − max z so that exp never overflows. */
function softmax(logits, temperature) {
  const scaled = logits.map((z) => z / temperature);
  const max = Math.max(...scaled);
  const exps = scaled.map((s) => Math.exp(s - max));
  const sum = exps.reduce((a, b) => a + b, 0);
  return exps.map((e) => e / sum);
}

/** H(p) = −Σ p_i log₂ p_i, in bits: 0 for a certain answer, log₂ 10 ≈ 3.32 for a uniform one. */
function entropyBits(probabilities) {
  return probabilities.reduce((h, p) => (p > 0 ? h - p * Math.log2(p) : h), 0);
}

/** The indices of the k largest probabilities, largest first. */
function topK(probabilities, k) {
  return probabilities
    .map((p, i) => [p, i])
    .sort((a, b) => b[0] - a[0] || a[1] - b[1])
    .slice(0, k)
    .map(([, i]) => i);
}

// ---------------------------------------------------------------- MNIST's preprocessing

const SIDE = 28; // the image the models see
const BOX = 20; // the box a digit's longer side is scaled to

/**
 * Averages `source` (length n) into `m` cells: cell j is the mean of the source over
 * [j·n/m, (j+1)·n/m), pixels cut by a cell's edge weighed by the part inside it. This is
 * area averaging, the anti-aliasing MNIST's digits were scaled with.
 */
function resample(source, m) {
  const n = source.length;
  const step = n / m;
  const out = new Float32Array(m);
  for (let j = 0; j < m; j++) {
    const from = j * step;
    const to = (j + 1) * step;
    let sum = 0;
    for (let i = Math.floor(from); i < Math.min(n, Math.ceil(to)); i++) {
      const overlap = Math.min(to, i + 1) - Math.max(from, i);
      sum += overlap * source[i];
    }
    out[j] = sum / step;
  }
  return out;
}

/**
 * A drawing (`grey`: width × height values in [0, 1], ink 1) as MNIST made its digits: the
 * bounding box of the ink scaled, keeping its proportions, so that its longer side is 20 pixels;
 * then put in a 28 × 28 image so that its centre of mass falls on pixel (14, 14), where MNIST's
 * digits have theirs (their centres of mass, in pixel indices, lie within half a pixel of 14).
 * Returns 784 values in [0, 1], row by row, or null for an empty drawing.
 */
function mnistImage(grey, width, height) {
  let [x0, y0, x1, y1] = [width, height, -1, -1];
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (grey[y * width + x] > 0) {
        x0 = Math.min(x0, x); x1 = Math.max(x1, x);
        y0 = Math.min(y0, y); y1 = Math.max(y1, y);
      }
    }
  }
  if (x1 < 0) return null;
  const [bw, bh] = [x1 - x0 + 1, y1 - y0 + 1];
  const scale = BOX / Math.max(bw, bh);
  const tw = Math.max(1, Math.round(bw * scale));
  const th = Math.max(1, Math.round(bh * scale));
  // Separable area averaging: each row of the box to tw cells, then each column to th cells.
  const rows = [];
  for (let y = y0; y <= y1; y++) rows.push(resample(grey.subarray(y * width + x0, y * width + x1 + 1), tw));
  const small = new Float32Array(tw * th);
  for (let x = 0; x < tw; x++) {
    const column = resample(Float32Array.from(rows, (row) => row[x]), th);
    for (let y = 0; y < th; y++) small[y * tw + x] = column[y];
  }
  // Centre of mass in pixel indices; then the whole-pixel shift that brings it to pixel 14.
  let [mass, mx, my] = [0, 0, 0];
  for (let y = 0; y < th; y++) {
    for (let x = 0; x < tw; x++) {
      const v = small[y * tw + x];
      mass += v; mx += v * x; my += v * y;
    }
  }
  const dx = Math.round(SIDE / 2 - mx / mass);
  const dy = Math.round(SIDE / 2 - my / mass);
  const image = new Float32Array(SIDE * SIDE);
  for (let y = 0; y < th; y++) {
    for (let x = 0; x < tw; x++) {
      const [X, Y] = [x + dx, y + dy];
      if (X >= 0 && X < SIDE && Y >= 0 && Y < SIDE) image[Y * SIDE + X] = Math.min(1, small[y * tw + x]);
    }
  }
  return image;
}

// ---------------------------------------------------------------- state

const state = {
  run: null, // GET /models
  temperature: 1,
  drawLogits: null, // {id: logits} for the drawing
  image: null, // the drawing's 784 values, as sent
  browse: { pair: 0, offset: 0, images: [], chosen: null },
};
// What the browser test reads: the state, the functions, and a count of answered predictions.
window.distillery = { state, softmax, entropyBits, topK, mnistImage, predictions: 0, pending: 0, ready: false };

const $ = (id) => document.getElementById(id);

/**
 * A new element with a class and children; a child string becomes a text node, never HTML, so a
 * class name, a model's description or an error message cannot inject markup.
 */
function el(tag, className, ...children) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  node.append(...children);
  return node;
}

/** Shows `message` as an error in the element `id`. */
function showError(id, message) {
  $(id).replaceChildren(el("span", "error", String(message)));
}
const percent = (x) => (100 * x).toFixed(2) + " %";

// ---------------------------------------------------------------- one model's card

/** A card: the model's name, size and accuracy, its bars at the current T, top-3 and entropy. */
function card(model, logits, label) {
  const p = softmax(logits, state.temperature);
  const top = topK(p, 3);
  const div = document.createElement("div");
  div.className = "model";
  div.dataset.role = model.role;
  div.dataset.id = model.id;
  div.dataset.top = String(top[0]);
  const accuracy = model.test_accuracy == null ? "" : ` · test accuracy ${percent(model.test_accuracy)}`;
  const who = model.role === "teacher" ? "teacher " : `student ${model.role} `;
  div.append(
    el("h3", "", who, el("span", "spec", model.spec)),
    el("p", "meta", `${model.parameters.toLocaleString("en")} parameters${accuracy}`),
  );
  const bars = document.createElement("div");
  bars.className = "bars";
  bars.style.setProperty("--classes", p.length);
  p.forEach((pi, c) => {
    const bar = document.createElement("div");
    bar.className = "bar" + (c === top[0] ? " top" : "") + (c === label ? " truth" : "");
    bar.dataset.p = String(pi);
    bar.title = `${state.run.classes[c]}: ${pi.toFixed(4)}`;
    const fill = el("div", "fill");
    fill.style.height = `${(100 * pi).toFixed(2)}%`;
    bar.append(fill, el("div", "class", state.run.classes[c]));
    bars.appendChild(bar);
  });
  div.appendChild(bars);
  const summary = el("p", "summary", "top-3: ");
  top.forEach((c, k) => {
    summary.append(el("b", "", state.run.classes[c]), ` ${p[c].toFixed(3)}`, k < 2 ? ", " : "");
  });
  summary.append(` · entropy ${entropyBits(p).toFixed(2)} bits`);
  summary.dataset.entropy = String(entropyBits(p));
  div.appendChild(summary);
  return div;
}

/** Cards for `logits` ({id: logits}) in the run's order; `label` underlines the true class. */
function renderCards(container, logits, label) {
  container.replaceChildren(
    ...state.run.models.filter((m) => logits[m.id]).map((m) => card(m, logits[m.id], label)),
  );
}

// ---------------------------------------------------------------- the drawing view

const pad = $("pad");
const ink = pad.getContext("2d", { willReadFrequently: true });
const PEN = 20; // stroke width on the 280-pixel pad: about MNIST's stroke once scaled to 20 × 20

function clearPad() {
  asked++; // an answer still on its way is for a drawing that is gone
  ink.fillStyle = "black";
  ink.fillRect(0, 0, pad.width, pad.height);
  state.drawLogits = null;
  state.image = null;
  $("seen").getContext("2d").clearRect(0, 0, SIDE, SIDE);
  $("draw-models").replaceChildren();
  $("draw-status").textContent = "Draw a digit with the mouse or a finger.";
}

let drawing = false;
let last = null;
/** Where a pointer event falls in the pad's own pixels (inside its border, whatever its CSS size). */
function at(event) {
  const r = pad.getBoundingClientRect();
  const x = event.clientX - r.left - pad.clientLeft;
  const y = event.clientY - r.top - pad.clientTop;
  return [x * (pad.width / pad.clientWidth), y * (pad.height / pad.clientHeight)];
}
pad.addEventListener("pointerdown", (e) => {
  drawing = true;
  last = at(e);
  pad.setPointerCapture(e.pointerId);
  stroke(last, last);
});
pad.addEventListener("pointermove", (e) => {
  if (!drawing) return;
  const next = at(e);
  stroke(last, next);
  last = next;
  // The bars follow the pen: a new prediction whenever the last one has come back.
  if (window.distillery.pending === 0) predictDrawing();
});
for (const end of ["pointerup", "pointercancel"]) {
  pad.addEventListener(end, () => {
    if (!drawing) return;
    drawing = false;
    predictDrawing();
  });
}
function stroke(from, to) {
  ink.strokeStyle = "white";
  ink.lineWidth = PEN;
  ink.lineCap = "round";
  ink.lineJoin = "round";
  ink.beginPath();
  ink.moveTo(...from);
  ink.lineTo(...to);
  ink.stroke();
}

function showSeen(canvas, image) {
  const ctx = canvas.getContext("2d");
  const data = ctx.createImageData(SIDE, SIDE);
  image.forEach((v, i) => {
    const g = Math.round(255 * v);
    data.data.set([g, g, g, 255], 4 * i);
  });
  ctx.putImageData(data, 0, 0);
}

let asked = 0; // the latest request's number: an answer to an older one is dropped
async function predictDrawing() {
  const rgba = ink.getImageData(0, 0, pad.width, pad.height).data;
  const grey = new Float32Array(pad.width * pad.height);
  for (let i = 0; i < grey.length; i++) grey[i] = rgba[4 * i] / 255;
  const image = mnistImage(grey, pad.width, pad.height);
  if (!image) return;
  state.image = Array.from(image);
  showSeen($("seen"), image);
  const mine = ++asked;
  window.distillery.pending++;
  try {
    const reply = await fetch("/predict", { method: "POST", body: JSON.stringify({ pixels: state.image }) });
    const body = await reply.json();
    if (mine !== asked) return;
    if (!reply.ok) throw new Error(body.error);
    state.drawLogits = Object.fromEntries(body.models.map((m) => [m.id, m.logits]));
    $("draw-status").textContent = `All ${body.models.length} models answered in ${body.microseconds} µs.`;
    renderDraw();
    window.distillery.predictions++;
  } catch (error) {
    if (mine === asked) showError("draw-status", error.message);
  } finally {
    window.distillery.pending--;
  }
}

function renderDraw() {
  if (!state.drawLogits) return;
  renderCards($("draw-models"), state.drawLogits, null);
  // Beside the teacher: how to read the rows below it.
  const legend = document.createElement("p");
  legend.className = "legend";
  legend.innerHTML = `Below the <b class="teacher">teacher</b>, one row per student: on the left
    <b class="alone">trained alone</b> on the labels, on the right the same network from the same
    start <b class="distilled">distilled</b> from the teacher. The framed bar is each model's answer.`;
  $("draw-models").firstChild.after(legend);
}

// ---------------------------------------------------------------- the disagreement view

let browsing = 0; // the latest load's number: a reply to an older one (another student) is dropped
async function loadDisagreements(more) {
  const b = state.browse;
  if (!more) { b.offset = 0; b.images = []; b.chosen = null; $("browse-detail").replaceChildren(); }
  const mine = ++browsing;
  $("more").disabled = true;
  const reply = await fetch(`/disagreements?pair=${b.pair}&offset=${b.offset}&limit=24`);
  const body = await reply.json();
  if (mine !== browsing) return;
  $("more").disabled = false;
  if (!reply.ok) { showError("browse-count", body.error); return; }
  b.images.push(...body.images);
  b.offset += body.images.length;
  $("browse-count").textContent =
    `${body.total} of the ${state.run.test_images} test images get different answers from ${body.spec} alone and distilled; showing ${b.images.length}.`;
  $("more").hidden = b.offset >= body.total;
  renderThumbs();
}

function renderThumbs() {
  const classes = state.run.classes;
  $("thumbs").replaceChildren(...state.browse.images.map((item, k) => {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "thumb" + (k === state.browse.chosen ? " chosen" : "");
    const canvas = document.createElement("canvas");
    canvas.width = SIDE; canvas.height = SIDE;
    showSeen(canvas, item.pixels.map((v) => v / 255));
    const alone = topK(softmax(item.alone, 1), 1)[0];
    const distilled = topK(softmax(item.distilled, 1), 1)[0];
    button.append(canvas, "label ", el("b", "", classes[item.label]), el("br"),
      `alone ${classes[alone]} · distilled ${classes[distilled]}`);
    button.addEventListener("click", () => { state.browse.chosen = k; renderThumbs(); renderBrowse(); });
    return button;
  }));
}

function renderBrowse() {
  const b = state.browse;
  const item = b.images[b.chosen];
  if (!item) return;
  const pair = state.run.pairs[b.pair];
  const teacher = state.run.models[0].id;
  renderCards($("browse-detail"), { [teacher]: item.teacher, [pair.alone]: item.alone, [pair.distilled]: item.distilled }, item.label);
}

// ---------------------------------------------------------------- wiring

function showTab(name) {
  if (!state.run) return; // the run is still loading
  $("view-draw").hidden = name !== "draw";
  $("view-browse").hidden = name !== "browse";
  $("tab-draw").classList.toggle("active", name === "draw");
  $("tab-browse").classList.toggle("active", name === "browse");
  if (name === "browse" && state.browse.images.length === 0 && state.run.pairs.length > 0) loadDisagreements(false);
}

$("temperature").addEventListener("input", (e) => {
  state.temperature = Number(e.target.value);
  $("temperature-value").textContent = String(state.temperature);
  renderDraw();
  renderBrowse();
});
$("clear").addEventListener("click", clearPad);
$("tab-draw").addEventListener("click", () => showTab("draw"));
$("tab-browse").addEventListener("click", () => showTab("browse"));
$("pair").addEventListener("change", (e) => { state.browse.pair = Number(e.target.value); loadDisagreements(false); });
$("more").addEventListener("click", () => loadDisagreements(true));

async function start() {
  clearPad();
  const reply = await fetch("/models");
  const run = await reply.json();
  if (!reply.ok) { showError("run-line", run.error); return; }
  state.run = run;
  const count = (role) => run.models.filter((m) => m.role === role).length;
  const teacher = run.teachers_in_ensemble > 1
    ? `an ensemble of ${run.teachers_in_ensemble} teachers (the cards show its first member)`
    : "a teacher";
  $("run-line").textContent =
    `Run ${run.run}: ${teacher}, ${count("alone")} student(s) trained alone and the same ${count("distilled")} distilled.`;
  if (run.distilled_at_temperature != null) {
    $("trained-temperature").textContent = `The students here were distilled at T = ${run.distilled_at_temperature}.`;
  }
  $("pair").replaceChildren(...run.pairs.map((p, i) => new Option(`${p.spec} (${p.disagreements} disagreements)`, String(i))));
  if (run.browser_error) showError("browse-count", run.browser_error);
  window.distillery.ready = true;
}
start();
