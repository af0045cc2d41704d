// uavtwin replay player: draws the run embedded in #replay-data on a canvas.
// The picture follows analysis/replay/scene.py: positions interpolated on the tracks, twins
// hosted by the destination of their last finished transfer, twins in flight moved along their
// backhaul route at their mean rate, UAV states absent / migrating / waiting / served.
// No network, no libraries. window.replay is the page's API (used by the browser test).
(function () {
  "use strict";
  const D = JSON.parse(document.getElementById("replay-data").textContent);

  const TYPES = { u1: Uint8Array, u2: Uint16Array, i2: Int16Array, i4: Int32Array,
    f4: Float32Array, f8: Float64Array };
  function dec(a) {
    const s = atob(a.b);
    const u = new Uint8Array(s.length);
    for (let i = 0; i < s.length; i++) u[i] = s.charCodeAt(i);
    return new TYPES[a.t](u.buffer);
  }
  function offsets(lengths) {
    const off = new Int32Array(lengths.length + 1);
    for (let i = 0; i < lengths.length; i++) off[i + 1] = off[i] + lengths[i];
    return off;
  }
  function dequant(codes, q) {
    const out = new Float64Array(codes.length);
    for (let i = 0; i < codes.length; i++) out[i] = q.lo + codes[i] * q.step;
    return out;
  }
  // last index i in [lo, hi) with a[i] <= v, or lo - 1
  function floorIndex(a, v, lo, hi) {
    let l = lo, h = hi;
    while (l < h) { const m = (l + h) >> 1; if (a[m] <= v) l = m + 1; else h = m; }
    return l - 1;
  }

  // ---- data ----------------------------------------------------------------------------
  const U = D.uav.n, W = D.uav.w, J = D.rsu.x.length;
  const first = dec(D.uav.first), last = dec(D.uav.last), host0 = dec(D.uav.host0);
  const hostW = dec(D.uav.hostw), price0 = dec(D.uav.price0);
  const RX = Float64Array.from(D.rsu.x), RY = Float64Array.from(D.rsu.y);
  const tk = { off: offsets(dec(D.track.len)), t: dec(D.track.t),
    x: dequant(dec(D.track.x), D.track.qx), y: dequant(dec(D.track.y), D.track.qy),
    z: dequant(dec(D.track.z), D.track.qz) };
  const tr = { uav: dec(D.transfer.uav), twin: dec(D.transfer.twin), t0: dec(D.transfer.t0),
    t1: dec(D.transfer.t1), price: dec(D.transfer.price), off: offsets(dec(D.transfer.len)),
    path: dec(D.transfer.path), maxDur: D.transfer.max_dur, retry: dec(D.transfer.retry) };
  tr.n = tr.t0.length;
  tr.dst = new Int32Array(tr.n);
  for (let k = 0; k < tr.n; k++) tr.dst[k] = tr.path[tr.off[k + 1] - 1];
  const hc = { t: dec(D.hosts.t), uav: dec(D.hosts.uav), twin: dec(D.hosts.twin),
    host: dec(D.hosts.host) };
  hc.n = hc.t.length;
  const og = { link: dec(D.outage.link), a: dec(D.outage.a), b: dec(D.outage.b),
    t0: dec(D.outage.t0), t1: dec(D.outage.t1) };
  og.n = og.t0.length;
  const dis = { t: dec(D.disruption.t), uav: dec(D.disruption.uav), event: dec(D.disruption.event) };
  dis.n = dis.t.length;
  const rd = { t: dec(D.round.t), uav: dec(D.round.uav), off: offsets(dec(D.round.len)),
    cand: dec(D.round.cand), price: dec(D.round.price), retry: dec(D.round.retry) };
  rd.n = rd.t.length;
  const fl = { t: dec(D.fail.t), uav: dec(D.fail.uav), outcome: dec(D.fail.outcome) };
  fl.n = fl.t.length;
  const sv = { uav: dec(D.service.uav), t0: dec(D.service.t0), t1: dec(D.service.t1) };
  sv.n = sv.t0.length;
  {  // interruptions that ended, by end time, with running count and sum (after the base
    // of those that ended before the embedded window)
    const ended = [];
    for (let i = 0; i < sv.n; i++) if (isFinite(sv.t1[i])) ended.push(i);
    ended.sort((a, b) => sv.t1[a] - sv.t1[b]);
    sv.end = new Float64Array(ended.length); sv.cumInt = new Float64Array(ended.length);
    let sum = D.service.before_s;
    ended.forEach((i, n) => { sum += sv.t1[i] - sv.t0[i]; sv.end[n] = sv.t1[i]; sv.cumInt[n] = sum; });
    sv.nEnded = ended.length;
    // per UAV, its interruptions by start with the running max of their ends: the UAV is
    // interrupted at T when that max, up to the last start <= T, lies after T
    const order = Array.from({ length: sv.n }, (_, i) => i).sort((a, b) => sv.uav[a] - sv.uav[b] || sv.t0[a] - sv.t0[b]);
    sv.byT0 = new Float64Array(sv.n); sv.maxT1 = new Float64Array(sv.n); sv.uOff = new Int32Array(U + 1);
    order.forEach((i, n) => {
      sv.byT0[n] = sv.t0[i];
      sv.maxT1[n] = n > 0 && sv.uav[order[n - 1]] === sv.uav[i] ? Math.max(sv.maxT1[n - 1], sv.t1[i]) : sv.t1[i];
      sv.uOff[sv.uav[i] + 1]++;
    });
    for (let u = 0; u < U; u++) sv.uOff[u + 1] += sv.uOff[u];
  }
  const rv = { t: dec(D.revenue.t), rsu: dec(D.revenue.rsu), amount: dec(D.revenue.amount) };
  rv.n = rv.t.length;
  const revBefore = D.revenue.before.reduce((a, b) => a + b, 0);
  const cumRev = new Float64Array(rv.n);
  for (let i = 0, s = revBefore; i < rv.n; i++) { s += rv.amount[i]; cumRev[i] = s; }
  const [pmin, pmax] = D.transfer.price_range;
  // cells: discs, or the footprint of the radio at each altitude (radius per RSU and altitude)
  const FP = D.rsu.footprint;
  const fpA = FP ? FP.alt.length : 0, fpR = FP ? Float64Array.from(FP.r) : null;
  const fpLo = FP ? FP.alt[0] : 0, fpStep = FP && fpA > 1 ? (FP.alt[fpA - 1] - FP.alt[0]) / (fpA - 1) : 1;
  const RR = Float64Array.from(D.rsu.r), RMIN = Float64Array.from(D.rsu.r);
  if (FP) {
    for (let j = 0; j < J; j++) {
      let lo = Infinity, hi = 0;
      for (let a = 0; a < fpA; a++) { lo = Math.min(lo, fpR[j * fpA + a]); hi = Math.max(hi, fpR[j * fpA + a]); }
      RMIN[j] = lo; RR[j] = hi;
    }
  }
  // radius of every RSU's cell at altitude z, into out (the footprint is on a uniform grid)
  function cellRadii(z, out) {
    if (!FP) { out.set(RR); return out; }
    let f = (z - fpLo) / fpStep;
    f = Math.min(Math.max(f, 0), fpA - 1);
    const i = Math.min(Math.floor(f), Math.max(fpA - 2, 0)), g = f - i;
    for (let j = 0; j < J; j++) {
      const a = fpR[j * fpA + i];
      out[j] = fpA > 1 ? a + g * (fpR[j * fpA + i + 1] - a) : a;
    }
    return out;
  }
  // RSUs near each cell of a coarse grid, so a UAV tests only the RSUs that may cover it
  const [gx0, gy0, gx1, gy1] = D.bounds;
  const GN = Math.max(1, Math.min(64, Math.ceil(Math.sqrt(J)))), gw = Math.max(gx1 - gx0, 1) / GN, gh = Math.max(gy1 - gy0, 1) / GN;
  const grid = [];
  for (let gy = 0; gy < GN; gy++) {
    for (let gx = 0; gx < GN; gx++) {
      const cx0 = gx0 + gx * gw, cy0 = gy0 + gy * gh, near = [];
      for (let j = 0; j < J; j++) {
        const dx = Math.max(cx0 - RX[j], 0, RX[j] - cx0 - gw), dy = Math.max(cy0 - RY[j], 0, RY[j] - cy0 - gh);
        if (dx * dx + dy * dy <= RR[j] * RR[j]) near.push(j);
      }
      grid.push(Int32Array.from(near));
    }
  }
  const allRsus = Int32Array.from({ length: J }, (_, j) => j);
  function rsusNear(x, y) {
    const gx = Math.floor((x - gx0) / gw), gy = Math.floor((y - gy0) / gh);
    return gx < 0 || gy < 0 || gx >= GN || gy >= GN ? allRsus : grid[gy * GN + gx];
  }

  // ---- state at time T (seconds since the run start) -------------------------------------
  const X = new Float64Array(U), Y = new Float64Array(U), Z = new Float64Array(U);
  const present = new Uint8Array(U), state = new Uint8Array(U);
  const host = Int32Array.from(hostW);
  let hostPtr = 0, hostT = -Infinity;
  const radii = new Float64Array(J);

  // position of UAV u at T into P[0..2]; false if the UAV has no track in the page
  const P = new Float64Array(3);
  function positionInto(u, T) {
    const lo = tk.off[u], hi = tk.off[u + 1];
    if (hi <= lo) return false;
    const i = floorIndex(tk.t, T, lo, hi);
    if (i < lo) { P[0] = tk.x[lo]; P[1] = tk.y[lo]; P[2] = tk.z[lo]; return true; }
    if (i >= hi - 1) { P[0] = tk.x[hi - 1]; P[1] = tk.y[hi - 1]; P[2] = tk.z[hi - 1]; return true; }
    const d = tk.t[i + 1] - tk.t[i], f = d > 0 ? (T - tk.t[i]) / d : 0;
    P[0] = tk.x[i] + f * (tk.x[i + 1] - tk.x[i]); P[1] = tk.y[i] + f * (tk.y[i + 1] - tk.y[i]);
    P[2] = tk.z[i] + f * (tk.z[i + 1] - tk.z[i]);
    return true;
  }
  function position(u, T) { return positionInto(u, T) ? [P[0], P[1], P[2]] : null; }
  // transfers (sorted by start) in blocks of 64 with the latest end of each block, so a
  // frame skips the blocks that ended before it even when a few transfers last long
  const BLOCK = 64, blockEnd = new Float64Array(Math.ceil(tr.n / BLOCK));
  for (let k = 0; k < tr.n; k++) blockEnd[k >> 6] = Math.max(blockEnd[k >> 6], tr.t1[k]);
  function inFlight(T) {
    const out = [];
    const hi = floorIndex(tr.t0, T, 0, tr.n) + 1;
    const lo = floorIndex(tr.t0, T - tr.maxDur - 1e-3, 0, tr.n) + 1;
    for (let k = Math.max(lo, 0); k < hi; k++) {
      if ((k & (BLOCK - 1)) === 0 && blockEnd[k >> 6] <= T) { k += BLOCK - 1; continue; }
      if (tr.t1[k] > T) out.push(k);
    }
    return out;
  }
  function updateHosts(T) {
    if (T < hostT) { host.set(hostW); hostPtr = 0; }
    while (hostPtr < hc.n && hc.t[hostPtr] <= T) {
      host[hc.uav[hostPtr] * W + hc.twin[hostPtr]] = hc.host[hostPtr];
      hostPtr++;
    }
    hostT = T;
  }
  const down = new Uint8Array(J);  // RSUs down now: they cover nothing
  function computeState(T, flying) {
    down.fill(0);
    for (let i = 0; i < og.n; i++) if (!og.link[i] && og.t0[i] <= T && T < og.t1[i]) down[og.a[i]] = 1;
    for (let u = 0; u < U; u++) {
      const has = positionInto(u, T);
      present[u] = has && T >= first[u] && T <= last[u] ? 1 : 0;
      if (has) { X[u] = P[0]; Y[u] = P[1]; Z[u] = P[2]; }
      if (!present[u]) { state[u] = 3; continue; }
      const r = cellRadii(Z[u], radii), near = rsusNear(X[u], Y[u]);
      let covered = false;
      for (let n = 0; n < near.length && !covered; n++) {
        const j = near[n], dx = X[u] - RX[j], dy = Y[u] - RY[j];
        covered = !down[j] && dx * dx + dy * dy <= r[j] * r[j];
      }
      state[u] = covered ? 0 : 2;
      const a = sv.uOff[u], b = sv.uOff[u + 1];
      if (b > a) { const i = floorIndex(sv.byT0, T, a, b); if (i >= a && sv.maxT1[i] > T) state[u] = 2; }
    }
    for (const k of flying) state[tr.uav[k]] = 1;
    for (let u = 0; u < U; u++) if (!present[u]) state[u] = 3;
    updateHosts(T);
  }
  function counters(T, flying) {
    const i = floorIndex(sv.end, T, 0, sv.nEnded);
    const done = i + 1;
    const r = floorIndex(rv.t, T, 0, rv.n);
    let lost = 0;
    for (let u = 0; u < U; u++) for (let w = 0; w < W; w++) if (host0[u * W + w] >= 0 && host[u * W + w] < 0) lost++;
    const all = D.service.before + done;
    return { migrations: all, mean: all > 0 ? (done > 0 ? sv.cumInt[i] : D.service.before_s) / all : NaN,
      revenue: r >= 0 ? cumRev[r] : revBefore, inFlight: flying.length,
      failed: D.fail.before + floorIndex(fl.t, T, 0, fl.n) + 1, lost };
  }
  function pointOnRoute(k, f) {
    const a = tr.off[k], b = tr.off[k + 1];
    if (b - a < 2) { const j = tr.path[a]; return [RX[j], RY[j]]; }
    let total = 0;
    for (let i = a; i < b - 1; i++) total += Math.hypot(RX[tr.path[i + 1]] - RX[tr.path[i]], RY[tr.path[i + 1]] - RY[tr.path[i]]);
    let target = f * total;
    for (let i = a; i < b - 1; i++) {
      const p = tr.path[i], q = tr.path[i + 1];
      const len = Math.hypot(RX[q] - RX[p], RY[q] - RY[p]);
      if (target <= len || i === b - 2) {
        const g = len > 0 ? Math.min(target / len, 1) : 0;
        return [RX[p] + g * (RX[q] - RX[p]), RY[p] + g * (RY[q] - RY[p])];
      }
      target -= len;
    }
    return [0, 0];
  }

  // ---- colours ---------------------------------------------------------------------------
  const paper = document.body.classList.contains("paper");
  const C = paper
    ? { bg: "#ffffff", fg: "#111111", area: "#fbfbfb", disc: "31,119,180", link: "#9a9a9a",
      states: ["#2a9d4b", "#e07b00", "#7b3fbf", "#aaaaaa"] }
    : { bg: "#16181d", fg: "#e8e8e8", area: "#1f232b", disc: "76,143,214", link: "#5a6372",
      states: ["#38c172", "#ffb020", "#b07cff", "#666666"] };
  function ramp(stops, f) {
    f = Math.min(Math.max(f, 0), 1) * (stops.length - 1);
    const i = Math.min(Math.floor(f), stops.length - 2), g = f - i;
    const a = stops[i], b = stops[i + 1];
    return "rgb(" + [0, 1, 2].map((c) => Math.round(a[c] + g * (b[c] - a[c]))).join(",") + ")";
  }
  const PLASMA = [[13, 8, 135], [126, 3, 168], [204, 71, 120], [248, 149, 64], [240, 249, 33]];
  const VIRIDIS = [[68, 1, 84], [59, 82, 139], [33, 145, 140], [94, 201, 98], [253, 231, 37]];
  const priceColour = (p) => (p < 0 ? C.fg : ramp(PLASMA, (p - pmin) / Math.max(pmax - pmin, 1e-9)));

  // ---- view ----------------------------------------------------------------------------
  const canvas = document.getElementById("map"), ctx = canvas.getContext("2d");
  // the static layer is its own canvas under the map: drawn when the view changes, never
  // copied per frame (the browser composites the two)
  const bg = document.getElementById("static"), bgx = bg.getContext("2d");
  const el = (id) => document.getElementById(id);
  const [bx0, by0, bx1, by1] = D.bounds;
  let view = { s: 1, ox: 0, oy: 0 }, bgKey = "", labels = true, follow = D.follow;
  let colourBy = "state", rect = null;
  const toPx = (x, y) => [view.ox + (x - bx0) * view.s, view.oy - (y - by0) * view.s];

  function setView() {
    if (rect === null) rect = canvas.getBoundingClientRect();  // reset on resize only
    const r = rect, dpr = window.devicePixelRatio || 1;
    if (canvas.width !== Math.round(r.width * dpr) || canvas.height !== Math.round(r.height * dpr)) {
      canvas.width = Math.round(r.width * dpr); canvas.height = Math.round(r.height * dpr);
      bg.width = canvas.width; bg.height = canvas.height;
    }
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    const w = r.width, h = r.height, pad = 16;
    const ex = Math.max(bx1 - bx0, 1), ey = Math.max(by1 - by0, 1);
    let s = Math.min((w - 2 * pad) / ex, (h - 2 * pad) / ey);
    if (follow >= 0) {
      s *= 2.5;
      view = { s, ox: w / 2 - (X[follow] - bx0) * s, oy: h / 2 + (Y[follow] - by0) * s };
    } else {
      view = { s, ox: (w - ex * s) / 2, oy: h - (h - ey * s) / 2 };
    }
    return dpr;
  }
  // the static layer: area, cells, backhaul links, RSUs and their labels
  function drawStatic(g) {
    const [ax, ay] = toPx(bx0, by1), [cx, cy] = toPx(bx1, by0);
    g.fillStyle = C.area; g.strokeStyle = C.link; g.lineWidth = 1;
    g.fillRect(ax, ay, cx - ax, cy - ay); g.strokeRect(ax, ay, cx - ax, cy - ay);
    // cells: a disc; with a radio footprint, its outer radius over the altitudes flown
    // (solid) and its inner one (dashed): a UAV between them is covered at some altitudes
    g.beginPath();
    for (let j = 0; j < J; j++) {
      const [px, py] = toPx(RX[j], RY[j]);
      g.moveTo(px + RR[j] * view.s, py); g.arc(px, py, RR[j] * view.s, 0, 2 * Math.PI);
    }
    g.fillStyle = "rgba(" + C.disc + ",0.07)"; g.fill();
    g.strokeStyle = "rgba(" + C.disc + ",0.6)"; g.stroke();
    if (FP) {
      g.beginPath();
      for (let j = 0; j < J; j++) {
        const [px, py] = toPx(RX[j], RY[j]);
        if (RMIN[j] <= 0) continue;
        g.moveTo(px + RMIN[j] * view.s, py); g.arc(px, py, RMIN[j] * view.s, 0, 2 * Math.PI);
      }
      g.setLineDash([3, 3]); g.stroke(); g.setLineDash([]);
    }
    g.setLineDash([5, 4]); g.strokeStyle = C.link; g.lineWidth = 1.2; g.beginPath();
    for (let e = 0; e < D.edges.length; e += 2) {
      const [p, q] = [toPx(RX[D.edges[e]], RY[D.edges[e]]), toPx(RX[D.edges[e + 1]], RY[D.edges[e + 1]])];
      g.moveTo(p[0], p[1]); g.lineTo(q[0], q[1]);
    }
    g.stroke(); g.setLineDash([]);
    g.font = "12px sans-serif"; g.textBaseline = "bottom"; g.fillStyle = C.fg; g.beginPath();
    for (let j = 0; j < J; j++) {
      const [px, py] = toPx(RX[j], RY[j]);
      g.moveTo(px, py - 7); g.lineTo(px - 6, py + 5); g.lineTo(px + 6, py + 5); g.closePath();
    }
    g.fill();
    if (labels) for (let j = 0; j < J; j++) { const [px, py] = toPx(RX[j], RY[j]); g.fillText("RSU " + j, px + 7, py - 5); }
  }

  // ---- drawing -----------------------------------------------------------------------------
  let T = D.window[0], playing = false, speed = D.speed, lastWall = null;
  const drawMs = [], intervals = [];
  let frames = 0, hoverText = null;
  // time spent in each part of draw() (ms, summed over frames; for the benchmark)
  const phase = {};
  let tMark = 0;
  function mark(name) { const now = performance.now(); phase[name] = (phase[name] || 0) + now - tMark; tMark = now; }
  const RETRY = "#22d3ee", FAIL = "#e03131", HIT = "#ff6b00";
  // colour buckets: UAVs of one colour are drawn as one path (state: 4, altitude: 16 steps)
  const NB = 16, altBucket = new Uint8Array(U), bucketColour = [];
  for (let b = 0; b < NB; b++) bucketColour.push(ramp(VIRIDIS, b / (NB - 1)));
  const TRAIL_PIECES = U > 200 ? 4 : 8;  // decimated trails for large fleets
  const trailX = new Float64Array(U * (TRAIL_PIECES + 1)), trailY = new Float64Array(U * (TRAIL_PIECES + 1));

  function bucketOf(u) {
    if (colourBy === "altitude") {
      const f = (Z[u] - D.track.qz.lo) / Math.max(D.track.qz.step * 65535, 1e-9);
      return Math.min(NB - 1, Math.max(0, Math.round(f * (NB - 1))));
    }
    return state[u];
  }
  const colourOfBucket = (b) => (colourBy === "altitude" ? bucketColour[b] : C.states[b]);
  const nBuckets = () => (colourBy === "altitude" ? NB : 3);
  // a UAV's dot in each colour (radius 4.5 px, outlined), drawn once per device scale
  const sprites = new Map();
  function sprite(b, dpr) {
    const key = colourOfBucket(b) + "@" + dpr;
    let img = sprites.get(key);
    if (!img) {
      img = document.createElement("canvas");
      img.width = img.height = Math.ceil(11 * dpr);
      const g = img.getContext("2d");
      g.setTransform(dpr, 0, 0, dpr, 0, 0);
      g.beginPath(); g.arc(5.5, 5.5, 4.5, 0, 2 * Math.PI);
      g.fillStyle = colourOfBucket(b); g.fill(); g.strokeStyle = C.bg; g.lineWidth = 0.8; g.stroke();
      sprites.set(key, img);
    }
    return img;
  }
  // one path per colour: add(u) adds UAV u's shape, paint(colour) strokes or fills it
  function perColour(add, paint) {
    for (let b = 0; b < nBuckets(); b++) {
      ctx.beginPath();
      let any = false;
      for (let u = 0; u < U; u++) if (altBucket[u] === b) { any = true; add(u); }
      if (any) paint(colourOfBucket(b));
    }
  }

  function draw() {
    const t0 = performance.now();
    tMark = t0;
    const flying = inFlight(T);
    computeState(T, flying);
    mark("state");
    const dpr = setView();
    const r = rect;
    const key = [canvas.width, canvas.height, labels, view.s, view.ox, view.oy].join();
    if (key !== bgKey) {  // every frame while following a UAV (the view moves)
      bgx.setTransform(dpr, 0, 0, dpr, 0, 0);
      bgx.fillStyle = C.bg; bgx.fillRect(0, 0, r.width, r.height); drawStatic(bgx); bgKey = key;
    }
    ctx.setTransform(1, 0, 0, 1, 0, 0); ctx.clearRect(0, 0, canvas.width, canvas.height);
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    mark("static layer");
    for (let u = 0; u < U; u++) altBucket[u] = present[u] ? bucketOf(u) : 255;
    const s = view.s, ox = view.ox, oy = view.oy;
    // trails: the last trail_s seconds in TRAIL_PIECES straight pieces, one path per colour
    const NP = TRAIL_PIECES + 1;
    for (let u = 0; u < U; u++) {
      if (!present[u]) continue;
      for (let k = 0; k < NP; k++) {
        positionInto(u, Math.max(T - (D.trail_s * (TRAIL_PIECES - k)) / TRAIL_PIECES, first[u]));
        trailX[u * NP + k] = ox + (P[0] - bx0) * s; trailY[u * NP + k] = oy - (P[1] - by0) * s;
      }
    }
    ctx.globalAlpha = 0.55; ctx.lineWidth = 1;
    perColour((u) => {
      ctx.moveTo(trailX[u * NP], trailY[u * NP]);
      for (let k = 1; k < NP; k++) ctx.lineTo(trailX[u * NP + k], trailY[u * NP + k]);
    }, (c) => { ctx.strokeStyle = c; ctx.stroke(); });
    mark("trails");
    // lines to hosting RSUs
    ctx.globalAlpha = 0.6; ctx.lineWidth = 0.6; ctx.strokeStyle = C.fg; ctx.beginPath();
    for (let u = 0; u < U; u++) {
      if (!present[u]) continue;
      const px = ox + (X[u] - bx0) * s, py = oy - (Y[u] - by0) * s;
      for (let w = 0; w < W; w++) {
        const j = host[u * W + w];
        if (j < 0) continue;
        let dup = false;
        for (let v = 0; v < w && !dup; v++) dup = host[u * W + v] === j;
        if (dup) continue;
        ctx.moveTo(px, py); ctx.lineTo(ox + (RX[j] - bx0) * s, oy - (RY[j] - by0) * s);
      }
    }
    ctx.stroke(); ctx.globalAlpha = 1;
    mark("host lines");
    // candidates of pricing rounds just played: gold, cyan for a retry of a failed request
    ctx.lineWidth = 2;
    for (const retry of [0, 1]) {
      ctx.beginPath();
      for (let i = floorIndex(rd.t, T - D.highlight_s, 0, rd.n) + 1; i < rd.n && rd.t[i] <= T; i++) {
        if (rd.retry[i] !== retry) continue;
        for (let c = rd.off[i]; c < rd.off[i + 1]; c++) {
          const [px, py] = toPx(RX[rd.cand[c]], RY[rd.cand[c]]);
          ctx.moveTo(px + 14 + 3 * retry, py); ctx.arc(px, py, 14 + 3 * retry, 0, 2 * Math.PI);
        }
      }
      ctx.strokeStyle = retry ? RETRY : "gold"; ctx.stroke();
    }
    // twins in flight on their routes, coloured by the price paid; a retried transfer (its
    // request retries a failed one, or a fault aborted it) has a dashed route and a cyan rim
    ctx.lineWidth = 3;
    for (const k of flying) {
      ctx.strokeStyle = priceColour(tr.price[k]); ctx.setLineDash(tr.retry[k] ? [7, 5] : []); ctx.beginPath();
      for (let i = tr.off[k]; i < tr.off[k + 1]; i++) {
        const [px, py] = toPx(RX[tr.path[i]], RY[tr.path[i]]);
        if (i === tr.off[k]) ctx.moveTo(px, py); else ctx.lineTo(px, py);
      }
      ctx.stroke();
    }
    ctx.setLineDash([]);
    for (const k of flying) {
      const f = Math.min(Math.max((T - tr.t0[k]) / Math.max(tr.t1[k] - tr.t0[k], 1e-9), 0), 1);
      const p = pointOnRoute(k, f), [px, py] = toPx(p[0], p[1]);
      ctx.fillStyle = priceColour(tr.price[k]); ctx.fillRect(px - 4, py - 4, 8, 8);
      if (tr.retry[k]) { ctx.strokeStyle = RETRY; ctx.lineWidth = 2.5; ctx.strokeRect(px - 6, py - 6, 12, 12); }
      else { ctx.strokeStyle = C.fg; ctx.lineWidth = 0.5; ctx.strokeRect(px - 4, py - 4, 8, 8); }
    }
    mark("rounds, transfers");
    // UAVs: a dot drawn once per colour, then copied (far cheaper than 1,000 arcs)
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    for (let u = 0; u < U; u++) {
      if (!present[u]) continue;
      const img = sprite(altBucket[u], dpr);
      ctx.drawImage(img, Math.round((ox + (X[u] - bx0) * s) * dpr - img.width / 2),
        Math.round((oy - (Y[u] - by0) * s) * dpr - img.height / 2));
    }
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    mark("UAVs");
    if (follow >= 0) {
      const [px, py] = toPx(X[follow], Y[follow]);
      ctx.beginPath(); ctx.arc(px, py, 10, 0, 2 * Math.PI); ctx.strokeStyle = C.fg; ctx.lineWidth = 1.5; ctx.stroke();
      if (FP) {  // the cells at the followed UAV's altitude
        cellRadii(Z[follow], radii);
        ctx.beginPath();
        for (let j = 0; j < J; j++) {
          const [qx, qy] = toPx(RX[j], RY[j]);
          ctx.moveTo(qx + radii[j] * s, qy); ctx.arc(qx, qy, radii[j] * s, 0, 2 * Math.PI);
        }
        ctx.strokeStyle = "rgba(" + C.disc + ",1)"; ctx.lineWidth = 1.5; ctx.stroke();
      }
    }
    // failed requests (red cross at the UAV)
    ctx.strokeStyle = FAIL; ctx.lineWidth = 3; ctx.beginPath();
    for (let i = floorIndex(fl.t, T - 3 * D.highlight_s, 0, fl.n) + 1; i < fl.n && fl.t[i] <= T; i++) {
      const [px, py] = toPx(X[fl.uav[i]], Y[fl.uav[i]]);
      ctx.moveTo(px - 6, py - 6); ctx.lineTo(px + 6, py + 6); ctx.moveTo(px + 6, py - 6); ctx.lineTo(px - 6, py + 6);
    }
    ctx.stroke();
    // outages: failed links and RSUs; transfers hit by a fault (orange diamond at the UAV)
    ctx.beginPath();
    for (let i = 0; i < og.n; i++) {
      if (!(og.t0[i] <= T && T < og.t1[i])) continue;
      const [px, py] = toPx(RX[og.a[i]], RY[og.a[i]]);
      if (og.link[i]) {
        const [qx, qy] = toPx(RX[og.b[i]], RY[og.b[i]]);
        ctx.moveTo(px, py); ctx.lineTo(qx, qy);
      } else {
        ctx.moveTo(px - 9, py - 9); ctx.lineTo(px + 9, py + 9); ctx.moveTo(px + 9, py - 9); ctx.lineTo(px - 9, py + 9);
      }
    }
    ctx.stroke();
    ctx.strokeStyle = HIT; ctx.lineWidth = 2; ctx.beginPath();
    for (let i = floorIndex(dis.t, T - 3 * D.highlight_s, 0, dis.n) + 1; i < dis.n && dis.t[i] <= T; i++) {
      const [px, py] = toPx(X[dis.uav[i]], Y[dis.uav[i]]);
      ctx.moveTo(px, py - 8); ctx.lineTo(px + 8, py); ctx.lineTo(px, py + 8); ctx.lineTo(px - 8, py); ctx.closePath();
    }
    ctx.stroke();
    mark("failures, faults");
    sidePanel(flying);
    mark("side panel");
    const dt = performance.now() - t0;
    drawMs.push(dt); if (drawMs.length > 2000) drawMs.shift();
    frames++;
  }

  // ---- side panel: prices posted by each RSU and sensing shares over time ----------------
  const TAB10 = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
    "#7f7f7f", "#bcbd22", "#17becf"];
  const sens = { t: dec(D.sensing.t), share: D.sensing.share.map(dec) };
  const plots = [];
  function makePlot(id, draw) {
    const c = el(id), g = c.getContext("2d"), img = document.createElement("canvas");
    img.width = c.width; img.height = c.height;
    draw(img.getContext("2d"), c.width, c.height);
    plots.push({ c, g, img });
  }
  const tx = (t, w) => 4 + ((t - D.window[0]) / Math.max(D.window[1] - D.window[0], 1e-9)) * (w - 8);
  makePlot("prices", (g, w, h) => {
    let lo = Infinity, hi = -Infinity;
    for (let i = 0; i < rd.price.length; i++) { lo = Math.min(lo, rd.price[i]); hi = Math.max(hi, rd.price[i]); }
    if (!isFinite(lo)) { lo = 0; hi = 1; }
    g.strokeStyle = C.link; g.strokeRect(0.5, 0.5, w - 1, h - 1);
    g.fillStyle = C.fg; g.font = "10px sans-serif";
    g.fillText(hi.toFixed(1), 4, 11); g.fillText(lo.toFixed(1), 4, h - 4);
    for (let i = 0; i < rd.n; i++) {
      for (let c = rd.off[i]; c < rd.off[i + 1]; c++) {
        g.fillStyle = TAB10[rd.cand[c] % 10];
        g.fillRect(tx(rd.t[i], w) - 1, h - 4 - ((rd.price[c] - lo) / Math.max(hi - lo, 1e-9)) * (h - 8) - 1, 2, 2);
      }
    }
  });
  if (sens.share.length === 0) el("shares-box").hidden = true;
  makePlot("shares", (g, w, h) => {
    g.strokeStyle = C.link; g.strokeRect(0.5, 0.5, w - 1, h - 1);
    sens.share.forEach((sh, m) => {
      g.strokeStyle = TAB10[m % 10]; g.beginPath();
      for (let i = 0; i < sh.length; i++) {
        const x = tx(sens.t[i], w), y = h - 4 - sh[i] * (h - 8);
        if (i === 0) g.moveTo(x, y); else g.lineTo(x, y);
      }
      g.stroke();
    });
  });
  function drawPlots() {
    for (const p of plots) {
      p.g.clearRect(0, 0, p.c.width, p.c.height); p.g.drawImage(p.img, 0, 0);
      const x = tx(T, p.c.width);
      p.g.strokeStyle = "gold"; p.g.beginPath(); p.g.moveTo(x, 0); p.g.lineTo(x, p.c.height); p.g.stroke();
    }
  }

  function fmt(v, d) { return isFinite(v) ? v.toFixed(d) : "-"; }
  const shown = {};
  function setText(id, text) { if (shown[id] !== text) { shown[id] = text; el(id).textContent = text; } }
  function sidePanel(flying) {
    const c = counters(T, flying);
    let present_n = 0;
    for (let u = 0; u < U; u++) present_n += present[u];
    setText("clock", "t = " + (D.t0 + T).toFixed(1) + " s / " + D.t1.toFixed(0) + " s   x" + +speed.toPrecision(3));
    setText("counters",
      "migrations        " + c.migrations + "\nmean interruption " + fmt(c.mean, 2) + " s\n" +
      "revenue           " + c.revenue.toFixed(1) + "\ntwins in flight   " + c.inFlight + "\n" +
      "failed requests   " + c.failed + "\ntwins lost        " + c.lost +
      "\nUAVs present      " + present_n + " / " + U);
    setText("events", follow >= 0 ? eventsOf(follow).join("\n") : "");
    el("scrub").value = String(T);
    drawPlots();
  }
  function hostsOf(u) {
    const set = new Set();
    for (let w = 0; w < W; w++) if (host[u * W + w] >= 0) set.add(host[u * W + w]);
    return Array.from(set).sort((a, b) => a - b);
  }
  function lastPrice(u) {
    let p = price0[u];
    for (let k = 0; k < tr.n && tr.t0[k] <= T; k++) if (tr.uav[k] === u && tr.price[k] >= 0) p = tr.price[k];
    return p;
  }
  function eventsOf(u) {
    const ev = [];
    for (let i = 0; i < rd.n && rd.t[i] <= T; i++) if (rd.uav[i] === u) ev.push([rd.t[i], "round: RSU " + Array.from(rd.cand.subarray(rd.off[i], rd.off[i + 1])).join(", ")]);
    for (let k = 0; k < tr.n && tr.t0[k] <= T; k++) {
      if (tr.uav[k] !== u) continue;
      ev.push([tr.t0[k], "twin " + tr.twin[k] + " -> RSU " + tr.dst[k] + (tr.price[k] >= 0 ? " @ " + tr.price[k].toFixed(2) : "")]);
      if (tr.t1[k] <= T) ev.push([tr.t1[k], "twin " + tr.twin[k] + " arrived at RSU " + tr.dst[k]]);
    }
    for (let i = 0; i < fl.n && fl.t[i] <= T; i++) if (fl.uav[i] === u) ev.push([fl.t[i], "request failed: " + D.outcomes[fl.outcome[i]]]);
    for (let i = 0; i < hc.n && hc.t[i] <= T; i++) if (hc.uav[i] === u && hc.host[i] < 0) ev.push([hc.t[i], "twin " + hc.twin[i] + " lost with its failed RSU"]);
    for (let i = 0; i < dis.n && dis.t[i] <= T; i++) if (dis.uav[i] === u) ev.push([dis.t[i], "transfer " + D.disruption.labels[dis.event[i]]]);
    ev.sort((a, b) => a[0] - b[0]);
    return ["UAV " + u + ": " + D.states[state[u]] + ", z = " + Z[u].toFixed(0) + " m, hosts RSU " + (hostsOf(u).join(", ") || "- (twins lost)")]
      .concat(ev.slice(-12).map((e) => "t=" + (D.t0 + e[0]).toFixed(1).padStart(7) + " s  " + e[1]));
  }
  function rsuInfo(j) {
    let so_far = D.revenue.before[j], total = D.revenue.total[j], wins = D.revenue.sales_before[j];
    for (let i = 0; i < rv.n; i++) if (rv.rsu[i] === j && rv.t[i] <= T) { so_far += rv.amount[i]; wins++; }
    return "RSU " + j + "\nrevenue so far  " + so_far.toFixed(2) + "\nrevenue in run  " + total.toFixed(2) + "\nrounds with a sale so far " + wins;
  }

  // ---- interaction ---------------------------------------------------------------------
  function tick(now) {
    if (!playing) { lastWall = null; return; }
    if (lastWall !== null) {
      const wall = now - lastWall;
      intervals.push(wall); if (intervals.length > 2000) intervals.shift();
      T = Math.min(T + (wall / 1000) * speed, D.window[1]);
    }
    lastWall = now;
    draw();
    if (T >= D.window[1]) { pause(); return; }
    requestAnimationFrame(tick);
  }
  function play() { if (T >= D.window[1]) T = D.window[0]; playing = true; el("play").textContent = "Pause"; requestAnimationFrame(tick); }
  function pause() { playing = false; el("play").textContent = "Play"; }
  function seek(tAbs) { T = Math.min(Math.max(tAbs - D.t0, D.window[0]), D.window[1]); draw(); }

  el("title").textContent = "uavtwin replay: " + D.name;
  const dot = (colour, text) => '<span><i style="background:' + colour + '"></i>' + text + "</span>";
  function legend() {  // UAV colours: states, or altitude steps
    const zLo = D.track.qz.lo, zHi = zLo + D.track.qz.step * 65535;
    const uav = colourBy === "altitude"
      ? [0, NB / 2, NB - 1].map((b) => dot(bucketColour[b], "z " + (zLo + (b / (NB - 1)) * (zHi - zLo)).toFixed(0) + " m")).join("")
      : D.states.slice(0, 3).map((s, i) => dot(C.states[i], s)).join("");
    el("legend").innerHTML = uav + dot("gold", "pricing round") + dot(FAIL, "failed request (cross)") +
      dot(RETRY, "retry of a failed request or aborted transfer (ring, dashed route)") +
      dot(FAIL, "RSU / link down") + dot(HIT, "transfer hit by a fault") +
      dot(priceColour(pmax), "twin in flight (price " + pmin.toFixed(1) + "-" + pmax.toFixed(1) + ")");
  }
  legend();
  const scrub = el("scrub");
  scrub.min = String(D.window[0]); scrub.max = String(D.window[1]);
  scrub.addEventListener("input", () => { T = +scrub.value; draw(); });
  el("play").addEventListener("click", () => (playing ? pause() : play()));
  const sel = el("speed");
  for (const m of [0.25, 0.5, 1, 2, 4, 8]) {
    const o = document.createElement("option");
    o.value = String(D.speed * m); o.textContent = "x" + +(D.speed * m).toPrecision(3); o.selected = m === 1;
    sel.appendChild(o);
  }
  sel.addEventListener("change", () => { speed = +sel.value; draw(); });
  el("colour").addEventListener("change", (e) => { colourBy = e.target.value; legend(); draw(); });
  el("labels").addEventListener("change", (e) => { labels = e.target.checked; draw(); });
  function nearestUav(mx, my) {
    let best = -1, bd = 100;
    for (let u = 0; u < U; u++) {
      if (!present[u]) continue;
      const [px, py] = toPx(X[u], Y[u]), d = (px - mx) ** 2 + (py - my) ** 2;
      if (d < bd) { bd = d; best = u; }
    }
    return best;
  }
  function nearestRsu(mx, my) {
    let best = -1, bd = 196;
    for (let j = 0; j < J; j++) {
      const [px, py] = toPx(RX[j], RY[j]), d = (px - mx) ** 2 + (py - my) ** 2;
      if (d < bd) { bd = d; best = j; }
    }
    return best;
  }
  canvas.addEventListener("mousemove", (e) => {
    const r = canvas.getBoundingClientRect(), mx = e.clientX - r.left, my = e.clientY - r.top;
    const u = nearestUav(mx, my), tip = el("tip");
    if (u < 0) { tip.hidden = true; hoverText = null; return; }
    const p = lastPrice(u);
    hoverText = "UAV " + u + " (" + D.states[state[u]] + ")\nz = " + Z[u].toFixed(0) + " m\nhosts RSU " + hostsOf(u).join(", ") + "\nlast price " + (p >= 0 ? p.toFixed(2) + " /MHz" : "-");
    tip.textContent = hoverText; tip.hidden = false;
    tip.style.left = mx + 12 + "px"; tip.style.top = my + 12 + "px";
  });
  canvas.addEventListener("mouseleave", () => { el("tip").hidden = true; });
  canvas.addEventListener("click", (e) => {
    const r = canvas.getBoundingClientRect(), mx = e.clientX - r.left, my = e.clientY - r.top;
    const j = nearestRsu(mx, my);
    if (j >= 0) { el("info").textContent = rsuInfo(j); return; }
    const u = nearestUav(mx, my);
    follow = u === follow ? -1 : u; bgKey = ""; draw();
  });
  window.addEventListener("resize", () => { bgKey = ""; rect = null; draw(); });

  function pct(a, q) { if (!a.length) return NaN; const s = a.slice().sort((x, y) => x - y); return s[Math.min(s.length - 1, Math.floor(q * s.length))]; }
  window.replay = {
    ready: true, seek, play, pause, draw,
    time: () => D.t0 + T,
    playing: () => playing,
    setLabels: (on) => { labels = !!on; el("labels").checked = labels; draw(); },
    setFollow: (u) => { follow = u; bgKey = ""; draw(); },
    position: (u, tAbs) => { const p = position(u, tAbs - D.t0); return p; },
    toPage: (x, y) => { const r = canvas.getBoundingClientRect(), p = toPx(x, y); return [r.left + p[0], r.top + p[1]]; },
    rsuLabelBox: (j) => { const r = canvas.getBoundingClientRect(), p = toPx(RX[j], RY[j]); return [r.left + p[0] + 7, r.top + p[1] - 18, 44, 14]; },
    hover: () => hoverText,
    info: () => el("info").textContent,
    stats: () => ({ frames, draw_ms_mean: drawMs.reduce((a, b) => a + b, 0) / Math.max(drawMs.length, 1),
      draw_ms_p95: pct(drawMs, 0.95), draw_ms_max: Math.max(0, ...drawMs),
      interval_ms_mean: intervals.reduce((a, b) => a + b, 0) / Math.max(intervals.length, 1),
      interval_ms_p95: pct(intervals, 0.95), intervals: intervals.length,
      phases_ms: Object.fromEntries(Object.entries(phase).map(([k, v]) => [k, v / Math.max(frames, 1)])) }),
    resetStats: () => { drawMs.length = 0; intervals.length = 0; frames = 0; for (const k in phase) delete phase[k]; },
  };
  draw();
})();
