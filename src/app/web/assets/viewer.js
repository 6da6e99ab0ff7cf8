// cubestream live viewer: plain browser JavaScript, no build step, no external URLs.
// Talks to the service through `cameras`, `events?camera=<id>` (Server-Sent Events) relative to
// the page, draws the waterfalls and the chart on canvases, and exposes what it drew as
// `window.__viewerState` (read by the browser test and handy in the devtools console).

/** Colour of blob boxes (also the page's accent colour). */
const BOX_COLOUR = '#00e5ff';
/** Strips kept in the page at most (the server keeps its own history and resends it on connect). */
const MAX_STRIPS = 96;
/** Without a message for this long, the verdict shows NO DATA. */
const STALE_MS = 5000;

const els = {
  camera: document.getElementById('camera'),
  verdict: document.getElementById('verdict'),
  conn: document.getElementById('conn'),
  connText: document.getElementById('conn-text'),
  rgb: document.getElementById('rgb'),
  heat: document.getElementById('heat'),
  chart: document.getElementById('chart'),
  rgbLabel: document.getElementById('rgb-label'),
  legendMax: document.getElementById('legend-max'),
  legendTau: document.getElementById('legend-tau'),
  anomalies: document.getElementById('anomalies'),
  noAnomalies: document.getElementById('no-anomalies'),
  empty: document.getElementById('empty'),
  counters: {
    frames: document.getElementById('c-frames'),
    blocks: document.getElementById('c-blocks'),
    anomalous: document.getElementById('c-anomalous'),
    drops: document.getElementById('c-drops'),
    latency: document.getElementById('c-latency'),
    threshold: document.getElementById('c-threshold'),
    skipped: document.getElementById('c-skipped'),
    queue: document.getElementById('c-queue'),
    falseAlarms: document.getElementById('c-false-alarms'),
    recall: document.getElementById('c-recall'),
    model: document.getElementById('c-model'),
    backend: document.getElementById('c-backend'),
  },
};

const state = {
  camera: null,
  cameras: [],
  /** Decoded strips, oldest first: { meta, rgb: HTMLImageElement, heat: HTMLImageElement }. */
  strips: [],
  series: [],
  status: null,
  connected: false,
  lastMessageAt: 0,
  /** Bumped on every connect so messages of an old stream are dropped. */
  generation: 0,
  /** Bumped on every connect and `hello` so strips still decoding from before are dropped. */
  stripEpoch: 0,
  stripsReceived: 0,
  draws: 0,
  boxes: [],
  source: null,
  decodeQueue: Promise.resolve(),
  drawPending: false,
};

/** What the page shows, for tests and the console. Replaced after every draw. */
function publishState() {
  const last = state.strips[state.strips.length - 1];
  window.__viewerState = {
    camera: state.camera,
    cameras: state.cameras.map((c) => c.cameraId),
    connected: state.connected,
    stripsReceived: state.stripsReceived,
    stripsShown: state.strips.length,
    lastSeq: last ? last.meta.seq : 0,
    lastStripCamera: last ? last.meta.cameraId : null,
    stripWidth: last ? last.meta.width : 0,
    draws: state.draws,
    boxes: state.boxes.map((b) => ({ ...b })),
    seriesPoints: state.series.length,
    status: state.status,
  };
}

// ---------------------------------------------------------------- formatting

function fmtInt(n) {
  return n === null || n === undefined ? '–' : Math.round(n).toLocaleString('en-US');
}

function fmtNum(x) {
  if (x === null || x === undefined || !Number.isFinite(x)) return '–';
  const a = Math.abs(x);
  if (a !== 0 && (a >= 1e5 || a < 1e-3)) return x.toExponential(2);
  return Number(x.toPrecision(4)).toString();
}

function fmtMs(ms) {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '–';
  return ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(ms < 10 ? 1 : 0)} ms`;
}

function fmtTime(t) {
  const d = new Date(t);
  return [d.getHours(), d.getMinutes(), d.getSeconds()].map((v) => String(v).padStart(2, '0')).join(':');
}

// ---------------------------------------------------------------- connection

function setConnection(kind, text) {
  els.conn.className = `conn ${kind}`;
  els.connText.textContent = text;
}

function connect(camera) {
  if (state.source) state.source.close();
  state.generation += 1;
  state.stripEpoch += 1;
  state.camera = camera;
  state.strips = [];
  state.series = [];
  state.status = null;
  state.boxes = [];
  scheduleDraw();
  const url = camera === null ? 'events' : `events?camera=${encodeURIComponent(camera)}`;
  const source = new EventSource(url);
  state.source = source;
  setConnection('connecting', 'connecting');
  source.addEventListener('open', () => {
    state.connected = true;
    setConnection('live', 'live');
    publishState();
  });
  source.addEventListener('error', () => {
    state.connected = false;
    // EventSource retries by itself (the server sends `retry:`); a CLOSED one we reopen.
    if (source.readyState === EventSource.CLOSED) {
      setConnection('down', 'disconnected');
      setTimeout(() => {
        if (state.source === source) connect(state.camera);
      }, 3000);
    } else {
      setConnection('connecting', 'reconnecting');
    }
    publishState();
  });
  const generation = state.generation;
  const on = (type, handler) =>
    source.addEventListener(type, (event) => {
      if (generation !== state.generation) return;
      state.lastMessageAt = Date.now();
      handler(JSON.parse(event.data));
    });
  on('cameras', onCameras);
  on('hello', onHello);
  on('strip', enqueueStrip);
  on('status', (body) => {
    state.status = body.status;
    if (body.point) upsertPoint(body.point);
    renderStatus();
    scheduleDraw();
  });
}

function cameraFromHash() {
  const match = /(?:^|[#&])camera=([^&]+)/.exec(window.location.hash);
  return match ? decodeURIComponent(match[1]) : null;
}

function onCameras(cameras) {
  state.cameras = cameras;
  const select = els.camera;
  const ids = cameras.map((c) => c.cameraId);
  const current = Array.from(select.options).map((o) => o.value);
  if (current.join('\n') !== ids.join('\n')) {
    select.replaceChildren(
      ...cameras.map((c) => {
        const option = document.createElement('option');
        option.value = c.cameraId;
        option.textContent = c.cameraId;
        return option;
      }),
    );
  }
  if (state.camera !== null && ids.includes(state.camera)) select.value = state.camera;
  els.empty.hidden = ids.length > 0;
  const missing = state.camera !== null && !ids.includes(state.camera) && state.status === null;
  if ((state.camera === null || missing) && ids.length > 0) {
    const wanted = cameraFromHash();
    const pick = wanted !== null && ids.includes(wanted) ? wanted : ids[0];
    select.value = pick;
    connect(pick);
  }
  publishState();
}

function onHello(snapshot) {
  state.stripEpoch += 1;
  state.strips = [];
  state.series = snapshot.series.slice();
  state.status = snapshot.status;
  renderStatus();
  for (const strip of snapshot.strips) enqueueStrip(strip);
  scheduleDraw();
}

function upsertPoint(point) {
  const last = state.series[state.series.length - 1];
  if (last && last.t === point.t) state.series[state.series.length - 1] = point;
  else if (!last || point.t > last.t) state.series.push(point);
  if (state.series.length > 600) state.series.shift();
}

function loadImage(src) {
  const image = new Image();
  image.src = src;
  return image.decode().then(() => image);
}

/** Decodes strips in arrival order, then draws; strips from before a reset are dropped. */
function enqueueStrip(meta) {
  const epoch = state.stripEpoch;
  state.decodeQueue = state.decodeQueue
    .then(() => Promise.all([loadImage(meta.rgb), loadImage(meta.heat)]))
    .then(([rgb, heat]) => {
      const last = state.strips[state.strips.length - 1];
      if (epoch !== state.stripEpoch || (last && meta.seq <= last.meta.seq)) return;
      state.strips.push({ meta, rgb, heat });
      if (state.strips.length > MAX_STRIPS) state.strips.shift();
      state.stripsReceived += 1;
      scheduleDraw();
    })
    .catch((error) => {
      console.warn('cubestream viewer: a strip could not be decoded', error);
    });
}

// ---------------------------------------------------------------- status

function renderStatus() {
  const s = state.status;
  const c = els.counters;
  c.frames.textContent = s ? fmtInt(s.frames) : '–';
  c.blocks.textContent = s ? fmtInt(s.blocks) : '–';
  c.anomalous.textContent = s ? fmtInt(s.anomalousBlocks) : '–';
  c.anomalous.classList.toggle('alarm', Boolean(s && s.anomalousBlocks > 0));
  c.drops.textContent = s ? fmtInt(s.drops) : '–';
  c.drops.classList.toggle('alarm', Boolean(s && s.drops > 0));
  c.latency.textContent = s ? fmtMs(s.latencyP99Ms) : '–';
  c.threshold.textContent = s ? fmtNum(s.threshold) : '–';
  c.skipped.textContent = s ? fmtInt(s.stripsSkipped) : '–';
  c.queue.textContent = s ? fmtInt(s.queueDepth) : '–';
  renderTruth(s ? s.truth : null);
  c.model.textContent = s?.modelVersion ? s.modelVersion : '–';
  c.model.title = c.model.textContent;
  c.backend.textContent = s?.backend ? s.backend : '–';
  els.rgbLabel.textContent = s ? s.rgbLabel : '';
  const tau = s ? s.threshold : Number.NaN;
  els.legendMax.textContent = Number.isFinite(tau) ? `${fmtNum(2 * tau)} (2τ)` : '2τ';
  els.legendTau.textContent = Number.isFinite(tau) ? `τ = ${fmtNum(tau)} at the mark` : 'τ at the mark';
  renderAnomalies(s ? s.recentAnomalies : []);
  renderVerdict();
}

/** False alarms and recall against the source's truth: shown only when the source knows it. */
function renderTruth(truth) {
  for (const row of document.querySelectorAll('.counters .truth')) row.hidden = !truth;
  const pct = (v, digits) => (v === null || v === undefined ? '–' : `${(100 * v).toFixed(digits)} %`);
  els.counters.falseAlarms.textContent = truth ? pct(truth.falseAlarmRate, 2) : '–';
  els.counters.recall.textContent = truth ? pct(truth.recall, 1) : '–';
}

function renderAnomalies(list) {
  els.noAnomalies.hidden = list.length > 0;
  els.anomalies.replaceChildren(
    ...list.map((a) => {
      const li = document.createElement('li');
      if (!a.shown) li.className = 'hidden-strip';
      const when = document.createElement('span');
      when.className = 'when';
      when.textContent = fmtTime(a.decidedAt);
      const what = document.createElement('span');
      what.className = 'what';
      what.textContent = `frame ${a.frameId} · row ${a.rowOffset} · ${fmtInt(a.anomalousPixels)} px`;
      const score = document.createElement('span');
      score.className = 'score';
      score.textContent = fmtNum(a.maxScore);
      li.append(when, what, score);
      return li;
    }),
  );
}

function renderVerdict() {
  const el = els.verdict;
  const stale = Date.now() - state.lastMessageAt > STALE_MS;
  const last = state.series[state.series.length - 1];
  const newest = state.strips[state.strips.length - 1];
  if (!state.status || stale) {
    el.className = 'verdict idle';
    el.textContent = 'NO DATA';
  } else if (last?.anomalousBlocks > 0 || newest?.meta.anomalous) {
    el.className = 'verdict alarm';
    el.textContent = 'ANOMALY';
  } else {
    el.className = 'verdict clear';
    el.textContent = 'CLEAR';
  }
}

// ---------------------------------------------------------------- drawing

function scheduleDraw() {
  if (state.drawPending) return;
  state.drawPending = true;
  requestAnimationFrame(() => {
    state.drawPending = false;
    draw();
  });
}

/** Sizes a canvas's backing store to its displayed size (device pixels); returns its context. */
function fitCanvas(canvas) {
  const ratio = window.devicePixelRatio || 1;
  const w = Math.max(1, Math.round(canvas.clientWidth * ratio));
  const h = Math.max(1, Math.round(canvas.clientHeight * ratio));
  if (canvas.width !== w || canvas.height !== h) {
    canvas.width = w;
    canvas.height = h;
  }
  return canvas.getContext('2d');
}

/**
 * Draws the strips newest at the bottom, each scaled to the canvas width, and the blob boxes on
 * top; returns the boxes drawn, in canvas pixels.
 */
function drawWaterfall(canvas, kind) {
  const ctx = fitCanvas(canvas);
  ctx.imageSmoothingEnabled = false;
  ctx.fillStyle = '#06090d';
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  const boxes = [];
  const thickness = Math.max(2, Math.round(2 * (window.devicePixelRatio || 1)));
  let bottom = canvas.height;
  for (let i = state.strips.length - 1; i >= 0 && bottom > 0; i--) {
    const { meta, rgb, heat } = state.strips[i];
    const scale = canvas.width / meta.imageWidth;
    const top = Math.round(bottom - meta.imageHeight * scale);
    ctx.drawImage(kind === 'rgb' ? rgb : heat, 0, top, canvas.width, bottom - top);
    if (meta.totalRows > meta.rows && meta.rowOffset === 0) {
      ctx.fillStyle = 'rgba(255,255,255,0.18)';
      ctx.fillRect(0, top, canvas.width, 1);
    }
    const pxPerRow = (bottom - top) / meta.imageHeight / meta.decimation;
    const pxPerCol = scale / meta.decimation;
    for (const blob of meta.blobs) {
      const rowStart = Math.max(blob.y, meta.rowOffset);
      const rowEnd = Math.min(blob.y + blob.h, meta.rowOffset + meta.rows);
      if (rowEnd <= rowStart) continue;
      const pad = thickness;
      const x0 = Math.max(0, Math.floor(blob.x * pxPerCol) - pad);
      const x1 = Math.min(canvas.width, Math.ceil((blob.x + blob.w) * pxPerCol) + pad);
      const y0 = Math.max(0, Math.max(top, Math.floor(top + (rowStart - meta.rowOffset) * pxPerRow) - pad));
      const y1 = Math.min(bottom, Math.ceil(top + (rowEnd - meta.rowOffset) * pxPerRow) + pad);
      if (x1 <= x0 || y1 <= y0) continue;
      ctx.fillStyle = BOX_COLOUR;
      ctx.fillRect(x0, y0, x1 - x0, thickness);
      ctx.fillRect(x0, y1 - thickness, x1 - x0, thickness);
      ctx.fillRect(x0, y0, thickness, y1 - y0);
      ctx.fillRect(x1 - thickness, y0, thickness, y1 - y0);
      boxes.push({
        canvas: kind,
        x: x0,
        y: y0,
        w: x1 - x0,
        h: y1 - y0,
        thickness,
        seq: meta.seq,
        frameId: meta.frameId,
        blob: { ...blob },
      });
    }
    bottom = top;
  }
  return boxes;
}

function niceStep(span, count) {
  const raw = span / Math.max(1, count);
  const power = 10 ** Math.floor(Math.log10(raw));
  return ([1, 2, 5, 10].find((m) => m * power >= raw) ?? 10) * power;
}

/** Threshold (left axis, line) and anomalous-pixel share (right axis, area) over time. */
function drawChart() {
  const canvas = els.chart;
  const ctx = fitCanvas(canvas);
  const ratio = window.devicePixelRatio || 1;
  const W = canvas.width;
  const H = canvas.height;
  ctx.fillStyle = '#06090d';
  ctx.fillRect(0, 0, W, H);
  const points = state.series;
  ctx.font = `${11 * ratio}px system-ui, sans-serif`;
  ctx.textBaseline = 'middle';
  const left = 48 * ratio;
  const right = W - 52 * ratio;
  const top = 10 * ratio;
  const bottom = H - 22 * ratio;
  if (points.length === 0 || right - left < 20 || bottom - top < 20) {
    ctx.fillStyle = '#7f8d9c';
    ctx.textAlign = 'center';
    ctx.fillText('no data yet', W / 2, H / 2);
    return;
  }
  const t0 = points[0].t;
  const t1 = Math.max(points[points.length - 1].t, t0 + 1000);
  const taus = points.map((p) => p.threshold).filter(Number.isFinite);
  let tauLo = taus.length ? Math.min(...taus) : 0;
  let tauHi = taus.length ? Math.max(...taus) : 1;
  if (tauHi - tauLo < Math.abs(tauHi) * 0.05 + 1e-12) {
    const mid = (tauHi + tauLo) / 2;
    const half = Math.max(Math.abs(mid) * 0.05, 1e-6);
    tauLo = mid - half;
    tauHi = mid + half;
  }
  const rates = points.map((p) => p.pixelRate * 100);
  const rateHi = Math.max(0.1, ...rates) * 1.15;
  const px = (t) => left + ((t - t0) / (t1 - t0)) * (right - left);
  const pyTau = (v) => bottom - ((v - tauLo) / (tauHi - tauLo)) * (bottom - top);
  const pyRate = (v) => bottom - (v / rateHi) * (bottom - top);

  // grid and left (τ) ticks
  const tauStep = niceStep(tauHi - tauLo, 4);
  ctx.strokeStyle = '#1a2430';
  ctx.lineWidth = 1;
  ctx.textAlign = 'right';
  ctx.fillStyle = '#5ec8ff';
  for (let v = Math.ceil(tauLo / tauStep) * tauStep; v <= tauHi + tauStep * 1e-9; v += tauStep) {
    const y = Math.round(pyTau(v)) + 0.5;
    ctx.beginPath();
    ctx.moveTo(left, y);
    ctx.lineTo(right, y);
    ctx.stroke();
    ctx.fillText(fmtNum(v), left - 6 * ratio, y);
  }
  // right (rate %) ticks
  const rateStep = niceStep(rateHi, 4);
  ctx.textAlign = 'left';
  ctx.fillStyle = '#ff8a7a';
  for (let v = 0; v <= rateHi + rateStep * 1e-9; v += rateStep) {
    ctx.fillText(`${fmtNum(v)}%`, right + 6 * ratio, pyRate(v));
  }
  // time ticks
  ctx.fillStyle = '#7f8d9c';
  ctx.textAlign = 'center';
  const span = (t1 - t0) / 1000;
  const secStep = Math.max(1, niceStep(span, 4)) * 1000;
  for (let t = Math.ceil(t0 / secStep) * secStep; t <= t1; t += secStep) {
    ctx.fillText(fmtTime(t), px(t), bottom + 12 * ratio);
  }
  // axes
  ctx.strokeStyle = '#3a4856';
  ctx.beginPath();
  ctx.moveTo(left + 0.5, top);
  ctx.lineTo(left + 0.5, bottom + 0.5);
  ctx.lineTo(right, bottom + 0.5);
  ctx.stroke();
  // anomaly rate area
  ctx.beginPath();
  ctx.moveTo(px(points[0].t), bottom);
  for (const p of points) ctx.lineTo(px(p.t), pyRate(p.pixelRate * 100));
  ctx.lineTo(px(points[points.length - 1].t), bottom);
  ctx.closePath();
  ctx.fillStyle = 'rgba(255,107,90,0.35)';
  ctx.fill();
  ctx.beginPath();
  points.forEach((p, i) => {
    const x = px(p.t);
    const y = pyRate(p.pixelRate * 100);
    if (i === 0) ctx.moveTo(x, y);
    else ctx.lineTo(x, y);
  });
  ctx.strokeStyle = '#ff6b5a';
  ctx.lineWidth = 1.5 * ratio;
  ctx.stroke();
  // threshold line
  ctx.beginPath();
  let started = false;
  for (const p of points) {
    if (!Number.isFinite(p.threshold)) {
      started = false;
      continue;
    }
    const x = px(p.t);
    const y = pyTau(p.threshold);
    if (started) ctx.lineTo(x, y);
    else ctx.moveTo(x, y);
    started = true;
  }
  ctx.strokeStyle = '#5ec8ff';
  ctx.lineWidth = 2 * ratio;
  ctx.stroke();
  // markers on the newest values (a lone first point shows too)
  const newest = points[points.length - 1];
  const marks = [
    [pyRate(newest.pixelRate * 100), '#ff6b5a'],
    [pyTau(newest.threshold), '#5ec8ff'],
  ];
  for (const [y, colour] of marks) {
    if (!Number.isFinite(y)) continue;
    ctx.beginPath();
    ctx.arc(px(newest.t), y, 3 * ratio, 0, 2 * Math.PI);
    ctx.fillStyle = colour;
    ctx.fill();
  }
}

function draw() {
  const boxes = drawWaterfall(els.rgb, 'rgb');
  const heatBoxes = drawWaterfall(els.heat, 'heat');
  state.boxes = boxes.concat(heatBoxes);
  drawChart();
  renderVerdict();
  state.draws += 1;
  publishState();
}

// ---------------------------------------------------------------- start

els.camera.addEventListener('change', () => {
  const camera = els.camera.value;
  if (!camera || camera === state.camera) return;
  window.location.hash = `camera=${encodeURIComponent(camera)}`;
  connect(camera);
});

window.addEventListener('resize', scheduleDraw);
setInterval(renderVerdict, 1000);

publishState();
connect(cameraFromHash());
