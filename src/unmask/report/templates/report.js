/* unmask report: the interactive timeline. Plain DOM and SVG, no library, nothing loaded.
 * Data comes from the JSON block #tl-data; text is only ever set with textContent, never parsed
 * as HTML, because descriptions hold message texts from the phone. */
(function () {
  "use strict";
  var root = document.documentElement;
  root.classList.remove("no-js");
  root.classList.add("js");

  // Printing: open every collapsed detail so the paper copy holds everything, then restore.
  var opened = [];
  window.addEventListener("beforeprint", function () {
    opened = Array.prototype.filter.call(document.querySelectorAll("details:not([open])"), function (d) {
      d.open = true;
      return true;
    });
  });
  window.addEventListener("afterprint", function () {
    opened.forEach(function (d) { d.open = false; });
    opened = [];
  });

  var dataEl = document.getElementById("tl-data");
  var chart = document.getElementById("tl-chart");
  if (!dataEl || !chart) { return; }
  var data = JSON.parse(dataEl.textContent || "{}");
  var SVGNS = "http://www.w3.org/2000/svg"; // an XML namespace name, not a resource to load
  var LABEL_W = 130, LANE_H = 28, TOP = 8, AXIS_H = 30, MAX_ROWS = 400;
  var SHAPES = { critical: "diamond", high: "triangle", medium: "square", low: "circle", info: "circle" };

  var findings = data.findings || [], records = data.records || [];
  var sources = data.sources || [], severities = data.severities || [];
  // The phone's time zone, when the evidence recorded it: each event then carries its local time
  // (lt), written by unmask with its own zone database, shown beside UTC.
  var zone = data.zone || "";
  var all = [];
  findings.forEach(function (f) {
    all.push({ t: f.t, lt: f.lt || "", src: f.src, sev: f.sev, n: f.n, text: f.title + " — " + f.msg, title: f.title });
  });
  records.forEach(function (r) {
    all.push({ t: r.t, lt: r.lt || "", src: r.src, ev: r.ev, own: !!r.f, text: r.d });
  });
  all.sort(function (a, b) { return a.t - b.t || (a.n ? -1 : 0) - (b.n ? -1 : 0); });
  all.forEach(function (e) { e.lower = (e.text + " " + e.src + " " + (e.ev || "") + " " + (e.sev || "")).toLowerCase(); });

  var state = { t0: 0, t1: 1, sev: {}, src: {}, records: true, q: "", selected: null };
  severities.forEach(function (s) { state.sev[s] = true; });
  sources.forEach(function (s) { state.src[s] = true; });

  function extent() {
    if (!all.length) { var now = Date.now(); return [now - 3600000, now + 3600000]; }
    var lo = all[0].t, hi = all[all.length - 1].t;
    var pad = Math.max((hi - lo) * 0.04, 60000);
    return [lo - pad, hi + pad];
  }
  function fit() { var e = extent(); state.t0 = e[0]; state.t1 = e[1]; }

  function pad2(n) { return (n < 10 ? "0" : "") + n; }
  function fmt(t, withSeconds) {
    var d = new Date(t);
    var s = d.getUTCFullYear() + "-" + pad2(d.getUTCMonth() + 1) + "-" + pad2(d.getUTCDate()) + " " +
      pad2(d.getUTCHours()) + ":" + pad2(d.getUTCMinutes());
    return withSeconds === false ? s : s + ":" + pad2(d.getUTCSeconds());
  }

  // "2024-05-02 10:00:00 UTC", and "(12:00:00 local time, Europe/Paris)" beside it when known.
  function stamp(e) {
    var s = fmt(e.t) + " UTC";
    if (zone && e.lt) {
      s += " (" + (e.lt.slice(0, 10) === s.slice(0, 10) ? e.lt.slice(11) : e.lt) + " local time, " + zone + ")";
    }
    return s;
  }

  function visible(e) {
    if (!state.src[e.src]) { return false; }
    if (e.n) { if (!state.sev[e.sev]) { return false; } } else if (!state.records) { return false; }
    return !state.q || e.lower.indexOf(state.q) !== -1;
  }

  function el(name, attrs, parent) {
    var node = document.createElementNS(SVGNS, name);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (parent) { parent.appendChild(node); }
    return node;
  }

  var STEPS = [1e3, 5e3, 15e3, 3e4, 6e4, 3e5, 9e5, 18e5, 36e5, 108e5, 216e5, 432e5, 864e5, 1728e5, 6048e5,
    2592e6, 7776e6, 31536e6];
  function tickStep(span, width) {
    var want = Math.max(2, Math.floor(width / 110));
    for (var i = 0; i < STEPS.length; i++) { if (span / STEPS[i] <= want) { return STEPS[i]; } }
    return STEPS[STEPS.length - 1];
  }

  function marker(g, sev, x, y, r) {
    var shape = SHAPES[sev] || "circle", node;
    if (shape === "diamond") {
      node = el("polygon", { points: [x, y - r, x + r, y, x, y + r, x - r, y].join(" ") }, g);
    } else if (shape === "triangle") {
      node = el("polygon", { points: [x, y - r, x + r, y + r * 0.8, x - r, y + r * 0.8].join(" ") }, g);
    } else if (shape === "square") {
      node = el("rect", { x: x - r * 0.8, y: y - r * 0.8, width: r * 1.6, height: r * 1.6 }, g);
    } else {
      node = el("circle", { cx: x, cy: y, r: sev === "info" ? r * 0.6 : r * 0.85 }, g);
    }
    return node;
  }

  var svg = null;
  function draw() {
    var width = Math.max(chart.clientWidth || 0, 480);
    var lanes = sources.filter(function (s) { return state.src[s]; });
    var height = TOP + Math.max(lanes.length, 1) * LANE_H + AXIS_H;
    var plotW = width - LABEL_W - 10;
    var span = Math.max(state.t1 - state.t0, 1);
    function xOf(t) { return LABEL_W + (t - state.t0) / span * plotW; }

    var fresh = el("svg", { viewBox: "0 0 " + width + " " + height, width: width, height: height, role: "img",
      tabindex: "0", "aria-label": "Timeline of the findings and the records around them, " +
        fmt(state.t0, false) + " to " + fmt(state.t1, false) + " UTC" });
    var laneOf = {};
    lanes.forEach(function (s, i) {
      var y = TOP + i * LANE_H;
      laneOf[s] = y + LANE_H / 2;
      if (i % 2 === 0) { el("rect", { "class": "lane", x: 0, y: y, width: width, height: LANE_H }, fresh); }
      var label = el("text", { "class": "lane-label", x: 6, y: y + LANE_H / 2 + 4 }, fresh);
      label.textContent = s.length > 18 ? s.slice(0, 17) + "…" : s;
    });
    var axis = el("g", { "class": "axis" }, fresh);
    var step = tickStep(span, plotW);
    var first = Math.ceil(state.t0 / step) * step;
    for (var t = first; t <= state.t1; t += step) {
      var x = xOf(t);
      if (x > width - 60) { break; } // a label that would be cut at the right edge says nothing
      el("line", { x1: x, x2: x, y1: TOP, y2: height - AXIS_H + 4 }, axis);
      var label = el("text", { x: x + 3, y: height - AXIS_H + 18 }, axis);
      label.textContent = step >= 864e5 ? fmt(t, false).slice(0, 10) : fmt(t, step < 6e4).slice(step >= 36e5 ? 5 : 11);
    }
    var recs = el("g", { "class": "records" }, fresh);
    var marks = el("g", { "class": "marks" }, fresh);
    var shown = [];
    all.forEach(function (e) {
      if (e.t < state.t0 || e.t > state.t1 || !visible(e) || laneOf[e.src] === undefined) { return; }
      shown.push(e);
      var x = xOf(e.t), y = laneOf[e.src];
      if (e.n) {
        var m = marker(marks, e.sev, x, y, 8);
        m.setAttribute("class", "mark m-" + e.sev + (state.selected === e ? " sel" : ""));
        m.setAttribute("data-n", String(e.n));
        m.setAttribute("data-sev", e.sev);
        var tip = el("title", {}, m);
        tip.textContent = stamp(e) + " — " + e.sev + ": " + e.title;
        m.addEventListener("click", function () { select(e, true); });
      } else {
        var r = el("rect", { "class": "rec" + (e.own ? " own" : ""), x: x - 1, y: y - 7, width: 2, height: 14 }, recs);
        var tip2 = el("title", {}, r);
        tip2.textContent = stamp(e) + " — " + e.src + " " + (e.ev || "") + ": " + e.text;
        r.addEventListener("click", function () { select(e, false); });
      }
    });
    if (svg) { chart.replaceChild(fresh, svg); } else { chart.appendChild(fresh); }
    svg = fresh;
    bindChart();
    table(shown);
    var nf = shown.filter(function (e) { return e.n; }).length;
    document.getElementById("tl-status").textContent = "Showing " + nf + " finding" + (nf === 1 ? "" : "s") +
      " and " + (shown.length - nf) + " other record" + (shown.length - nf === 1 ? "" : "s") + " between " +
      fmt(state.t0) + " and " + fmt(state.t1) + " UTC" + (zone ? " (local times in " + zone + " in the table)" : "") + ".";
  }

  function table(shown) {
    var body = document.querySelector("#tl-table tbody");
    while (body.firstChild) { body.removeChild(body.firstChild); }
    shown.slice(0, MAX_ROWS).forEach(function (e) {
      var tr = document.createElement("tr");
      if (e.n) { tr.className = "row-finding"; } else if (e.own) { tr.className = "row-own"; }
      if (state.selected === e) { tr.className += " sel"; }
      var cells = zone ? [fmt(e.t), e.lt, e.src, e.n ? e.sev : (e.ev || "record")]
        : [fmt(e.t), e.src, e.n ? e.sev : (e.ev || "record")];
      cells.forEach(function (text) {
        var td = document.createElement("td");
        td.textContent = text;
        tr.appendChild(td);
      });
      var what = document.createElement("td");
      if (e.n) {
        var a = document.createElement("a");
        a.href = "#f-" + e.n;
        a.textContent = e.n + ". " + e.text;
        what.appendChild(a);
      } else {
        what.textContent = e.text;
      }
      tr.appendChild(what);
      tr.addEventListener("click", function () { select(e, false); });
      body.appendChild(tr);
    });
    if (shown.length > MAX_ROWS) {
      var more = document.createElement("tr");
      var td = document.createElement("td");
      td.colSpan = zone ? 5 : 4;
      td.textContent = (shown.length - MAX_ROWS) + " more in this view: zoom in to list them.";
      more.appendChild(td);
      body.appendChild(more);
    }
  }

  function select(e, scroll) {
    state.selected = e;
    var box = document.getElementById("tl-detail");
    while (box.firstChild) { box.removeChild(box.firstChild); }
    var head = document.createElement("strong");
    head.textContent = stamp(e) + " · " + e.src + (e.n ? " · " + e.sev : " · " + (e.ev || "record"));
    box.appendChild(head);
    var p = document.createElement("p");
    p.textContent = e.text;
    box.appendChild(p);
    if (e.n) {
      var a = document.createElement("a");
      a.href = "#f-" + e.n;
      a.textContent = "Read finding " + e.n;
      box.appendChild(a);
    }
    draw();
    if (scroll) { box.scrollIntoView({ block: "nearest" }); }
  }

  function zoom(factor, at) {
    var span = state.t1 - state.t0;
    var centre = at === undefined ? state.t0 + span / 2 : at;
    var next = Math.max(span * factor, 2000);
    var left = (centre - state.t0) / span;
    state.t0 = centre - next * left;
    state.t1 = state.t0 + next;
    draw();
  }
  function pan(fraction) {
    var shift = (state.t1 - state.t0) * fraction;
    state.t0 += shift;
    state.t1 += shift;
    draw();
  }
  function focusFinding(n) {
    var e = all.filter(function (x) { return x.n === n; })[0];
    if (!e) { return; }
    state.sev[e.sev] = true;
    state.src[e.src] = true;
    syncBoxes();
    var w = data.window_ms || 1800000;
    state.t0 = e.t - w;
    state.t1 = e.t + w;
    select(e, false);
  }

  function bindChart() {
    var dragging = null;
    svg.addEventListener("wheel", function (ev) {
      ev.preventDefault();
      var rect = svg.getBoundingClientRect();
      var frac = (ev.clientX - rect.left - LABEL_W * rect.width / Number(svg.getAttribute("width"))) /
        (rect.width - (LABEL_W + 10) * rect.width / Number(svg.getAttribute("width")));
      var at = state.t0 + Math.min(Math.max(frac, 0), 1) * (state.t1 - state.t0);
      zoom(ev.deltaY > 0 ? 1.25 : 0.8, at);
    }, { passive: false });
    svg.addEventListener("pointerdown", function (ev) {
      if (ev.target && ev.target.getAttribute && ev.target.getAttribute("data-n")) { return; }
      dragging = { x: ev.clientX, t0: state.t0, t1: state.t1 };
    });
    svg.addEventListener("pointermove", function (ev) {
      if (!dragging) { return; }
      var rect = svg.getBoundingClientRect();
      var dt = (ev.clientX - dragging.x) / Math.max(rect.width - LABEL_W, 1) * (dragging.t1 - dragging.t0);
      if (Math.abs(ev.clientX - dragging.x) < 3) { return; }
      state.t0 = dragging.t0 - dt;
      state.t1 = dragging.t1 - dt;
      var keep = dragging;
      draw();
      dragging = keep;
    });
    ["pointerup", "pointerleave"].forEach(function (name) {
      svg.addEventListener(name, function () { dragging = null; });
    });
    svg.addEventListener("keydown", function (ev) {
      var keys = { "+": function () { zoom(0.5); }, "=": function () { zoom(0.5); }, "-": function () { zoom(2); },
        ArrowLeft: function () { pan(-0.2); }, ArrowRight: function () { pan(0.2); }, "0": function () { fit(); draw(); } };
      if (keys[ev.key]) { ev.preventDefault(); keys[ev.key](); svg.focus(); }
    });
  }

  function checkbox(container, label, checked, onChange, attrs) {
    var wrap = document.createElement("label");
    var box = document.createElement("input");
    box.type = "checkbox";
    box.checked = checked;
    Object.keys(attrs).forEach(function (k) { box.setAttribute(k, attrs[k]); });
    box.addEventListener("change", function () { onChange(box.checked); draw(); });
    wrap.appendChild(box);
    wrap.appendChild(document.createTextNode(" " + label));
    container.appendChild(wrap);
  }
  function syncBoxes() {
    document.querySelectorAll("#tl-sev input").forEach(function (b) { b.checked = !!state.sev[b.getAttribute("data-sev")]; });
    document.querySelectorAll("#tl-src input").forEach(function (b) { b.checked = !!state.src[b.getAttribute("data-src")]; });
  }

  var counts = {};
  findings.forEach(function (f) { counts[f.sev] = (counts[f.sev] || 0) + 1; });
  var sevBox = document.getElementById("tl-sev");
  severities.forEach(function (s) {
    checkbox(sevBox, s + " (" + (counts[s] || 0) + ")", true, function (on) { state.sev[s] = on; }, { "data-sev": s });
  });
  var srcBox = document.getElementById("tl-src");
  sources.forEach(function (s) {
    checkbox(srcBox, s, true, function (on) { state.src[s] = on; }, { "data-src": s });
  });
  document.getElementById("tl-records").addEventListener("change", function (ev) {
    state.records = ev.target.checked;
    draw();
  });
  var search = document.getElementById("tl-q");
  search.addEventListener("input", function () { state.q = search.value.trim().toLowerCase(); draw(); });
  document.querySelectorAll("[data-zoom]").forEach(function (b) {
    b.addEventListener("click", function () {
      var how = b.getAttribute("data-zoom");
      if (how === "in") { zoom(0.5); } else if (how === "out") { zoom(2); } else { fit(); draw(); }
    });
  });
  document.querySelectorAll("a[data-focus]").forEach(function (a) {
    a.addEventListener("click", function () { focusFinding(Number(a.getAttribute("data-focus"))); });
  });
  var resizeTimer = null;
  window.addEventListener("resize", function () {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(draw, 120);
  });

  fit();
  draw();
  // Exposed for tests and for curious readers' consoles; nothing depends on it.
  window.unmaskTimeline = { state: state, draw: draw, zoom: zoom, focus: focusFinding, fit: function () { fit(); draw(); } };
})();
