// The status page: plain HTML, CSS and JavaScript served as they are (no build
// step, no external fonts or CDNs). Every value from the pipeline is written
// with textContent, never parsed as HTML: attribute values come from whoever
// sends logs.

export const STATUS_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Vigil status</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/status.css">
<script src="/status.js" defer></script>
</head>
<body>
<header>
  <h1>Vigil</h1>
  <span id="state" class="badge">connecting…</span>
  <span id="live" class="live" title="live updates">●</span>
  <span class="meta" id="meta"></span>
</header>
<main>
  <section class="card" id="throughput">
    <h2>Throughput</h2>
    <div class="figures">
      <div><span class="big" id="in-rate">–</span><span class="unit">records/s in</span></div>
      <div><span class="big" id="out-rate">–</span><span class="unit">records/s out</span></div>
    </div>
    <svg id="spark" viewBox="0 0 240 48" preserveAspectRatio="none" aria-label="records per second, last two minutes"></svg>
    <p class="small" id="totals"></p>
  </section>
  <section class="card" id="queues">
    <h2>Exporters and queues</h2>
    <table><thead><tr><th>exporter</th><th>sent</th><th>failed</th><th>queue</th></tr></thead><tbody id="exporters-body"></tbody></table>
  </section>
  <section class="card" id="archive">
    <h2>Archive</h2>
    <div id="archives"></div>
    <p class="small" id="verification"></p>
  </section>
  <section class="card span2" id="recent">
    <h2>Recent anomalies <span class="small" id="threshold"></span></h2>
    <ul id="recent-list" class="events"></ul>
  </section>
  <section class="card" id="hot">
    <h2>Keys scoring highest now</h2>
    <table><thead><tr><th>detector</th><th>key</th><th>score</th></tr></thead><tbody id="hot-body"></tbody></table>
  </section>
  <section class="card wide" id="alerts">
    <h2>Alert history <span class="small" id="alert-counts"></span></h2>
    <table><thead><tr><th>time (event)</th><th>detector</th><th>key</th><th>severity</th><th class="hide-narrow">reason</th></tr></thead><tbody id="alerts-body"></tbody></table>
  </section>
</main>
<footer class="small">Prometheus metrics at <a href="/metrics">/metrics</a> · this page as JSON at <a href="/status.json">/status.json</a></footer>
</body>
</html>
`;

export const STATUS_CSS = `:root { color-scheme: light dark; --bg: #f6f7f9; --card: #fff; --fg: #1d2430; --muted: #5d6878; --line: #dde2e8; --accent: #2563eb; --warn: #b45309; --crit: #b91c1c; --ok: #15803d; }
@media (prefers-color-scheme: dark) { :root { --bg: #11151b; --card: #1a2029; --fg: #e6e9ee; --muted: #98a2b3; --line: #2c3440; --accent: #60a5fa; --warn: #f59e0b; --crit: #f87171; --ok: #4ade80; } }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; background: var(--bg); color: var(--fg); }
header { display: flex; flex-wrap: wrap; align-items: baseline; gap: .6rem; padding: .8rem 1rem; border-bottom: 1px solid var(--line); background: var(--card); }
h1 { font-size: 1.3rem; margin: 0; }
h2 { font-size: 1rem; margin: 0 0 .6rem; }
.badge { padding: .1rem .5rem; border-radius: 1rem; background: var(--line); font-size: .85rem; }
.badge.ready { background: var(--ok); color: #fff; }
.badge.stopping, .badge.stopped { background: var(--warn); color: #fff; }
.live { color: var(--muted); font-size: .8rem; }
.live.on { color: var(--ok); }
.meta, .small, .unit { color: var(--muted); font-size: .85rem; }
main { display: grid; gap: 1rem; padding: 1rem; grid-template-columns: repeat(auto-fill, minmax(min(340px, 100%), 1fr)); }
.card { background: var(--card); border: 1px solid var(--line); border-radius: .6rem; padding: .9rem 1rem; min-width: 0; overflow-x: auto; }
.wide { grid-column: 1 / -1; }
.span2 { grid-column: span 2; }
.figures { display: flex; gap: 1.5rem; }
.figures div { display: flex; flex-direction: column; }
.big { font-size: 1.8rem; font-variant-numeric: tabular-nums; font-weight: 600; }
svg { width: 100%; height: 48px; margin-top: .4rem; }
svg polyline { fill: none; stroke-width: 1.5; vector-effect: non-scaling-stroke; }
svg .in { stroke: var(--accent); } svg .out { stroke: var(--ok); }
table { width: 100%; border-collapse: collapse; font-size: .88rem; table-layout: auto; }
th, td { text-align: left; padding: .3rem .4rem; border-bottom: 1px solid var(--line); vertical-align: top; }
/* Keys and detector names break only where the script put a <wbr> (after . / : | _ @ , -), never inside a word:
   break-word (not anywhere) keeps a word's width as the column's minimum. */
td.key, td.reason, td.det { overflow-wrap: break-word; }
td[class^="sev-"] { white-space: nowrap; }
th { color: var(--muted); font-weight: 500; }
td.num { font-variant-numeric: tabular-nums; white-space: nowrap; }
td.time { white-space: normal; }
.events { list-style: none; margin: 0; padding: 0; }
.events li { padding: .45rem 0; border-bottom: 1px solid var(--line); }
.events .head { display: flex; flex-wrap: wrap; gap: .5rem; align-items: baseline; }
.det { font-weight: 600; }
.key { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: .85rem; background: var(--bg); padding: 0 .3rem; border-radius: .25rem; overflow-wrap: break-word; min-width: 0; }
.reason { color: var(--muted); font-size: .85rem; overflow-wrap: anywhere; }
.sev-critical { color: var(--crit); font-weight: 600; } .sev-warning { color: var(--warn); font-weight: 600; }
.bar { display: inline-block; height: .5rem; background: var(--accent); border-radius: .25rem; margin-right: .4rem; vertical-align: middle; }
.bar.flagged { background: var(--crit); }
.empty { color: var(--muted); font-style: italic; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: .15rem .8rem; margin: 0 0 .5rem; font-size: .88rem; }
dt { color: var(--muted); } dd { margin: 0; overflow-wrap: anywhere; }
footer { padding: 0 1rem 1rem; }
a { color: var(--accent); }
@media (max-width: 760px) { .span2 { grid-column: 1 / -1; } }
@media (max-width: 640px) { main { padding: .5rem; gap: .6rem; grid-template-columns: 1fr; } .card { padding: .7rem .6rem; } .hide-narrow { display: none; } .big { font-size: 1.5rem; } .bar { display: none; } th, td { padding: .3rem .25rem; } }
`;

export const STATUS_JS = `'use strict';
(function () {
  var $ = function (id) { return document.getElementById(id); };
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }
  function fill(parent, nodes) { parent.replaceChildren.apply(parent, nodes); }
  function num(n) { return Math.round(n).toLocaleString('en-US'); }
  /** "1 signed segment", "26,000 records". */
  function count(n, one, many) { return num(n) + ' ' + (Math.round(n) === 1 ? one : (many || one + 's')); }
  /** An element holding a key or a name, with a break opportunity after each separator and none inside a word. */
  function breakable(tag, cls, text) {
    var e = el(tag, cls);
    String(text).split(/(?<=[.\/:|_@,=-])/).forEach(function (part, i) {
      if (i > 0) e.appendChild(document.createElement('wbr'));
      e.appendChild(document.createTextNode(part));
    });
    return e;
  }
  function rate(n) { return n >= 100 ? num(n) : n.toFixed(1); }
  function when(isoTime) { return isoTime ? isoTime.replace('T', ' ').replace(/\\.\\d+Z$/, 'Z') : '–'; }
  function ago(isoTime) {
    if (!isoTime) return 'never';
    var s = Math.max(0, (Date.now() - Date.parse(isoTime)) / 1000);
    return s < 90 ? Math.round(s) + ' s ago' : s < 5400 ? Math.round(s / 60) + ' min ago' : Math.round(s / 3600) + ' h ago';
  }
  function row(cells) {
    var tr = el('tr');
    cells.forEach(function (c) { tr.appendChild(c instanceof Node ? c : el('td', '', c)); });
    return tr;
  }
  function td(cls, content) {
    var t = el('td', cls);
    if (content instanceof Node) t.appendChild(content); else t.textContent = String(content);
    return t;
  }
  function emptyRow(cols, text) { var t = el('td', 'empty', text); t.colSpan = cols; return el('tr').appendChild(t).parentNode; }

  function spark(points) {
    var svg = $('spark');
    var ns = 'http://www.w3.org/2000/svg';
    var max = 1;
    points.forEach(function (p) { max = Math.max(max, p.in, p.out); });
    var lines = ['in', 'out'].map(function (k) {
      var pl = document.createElementNS(ns, 'polyline');
      pl.setAttribute('class', k);
      var n = points.length;
      pl.setAttribute('points', points.map(function (p, i) {
        return (n > 1 ? (i * 240) / (n - 1) : 0).toFixed(1) + ',' + (47 - (p[k] / max) * 45).toFixed(1);
      }).join(' '));
      return pl;
    });
    fill(svg, lines);
  }

  function render(s) {
    var st = $('state');
    st.textContent = s.vigil.state;
    st.className = 'badge ' + s.vigil.state;
    $('meta').textContent = 'v' + s.vigil.version + ' · config: ' + s.vigil.config + ' · up since ' + when(s.vigil.startedAt);

    var t = s.throughput;
    $('in-rate').textContent = rate(t.inPerSecond);
    $('out-rate').textContent = rate(t.outPerSecond);
    $('totals').textContent = num(t.accepted) + ' accepted · ' + num(t.refused) + ' refused · ' + num(t.sent) + ' exported · ' + num(t.failed) + ' failed';
    spark(t.history);

    fill($('exporters-body'), s.exporters.length ? s.exporters.map(function (e) {
      var q = e.queueSize === null ? 'none' : num(e.queueSize) + (e.queueCapacity ? ' / ' + num(e.queueCapacity) : '');
      return row([e.id, td('num', num(e.sent)), td('num', num(e.failed)), td('num', q)]);
    }) : [emptyRow(4, 'no exporters')]);

    fill($('archives'), s.archives.length ? s.archives.map(function (a) {
      var dl = el('dl');
      function item(k, v) { dl.appendChild(el('dt', '', k)); dl.appendChild(el('dd', '', v)); }
      item('archive', a.id + ' · ' + a.directory);
      item('open segment', a.openSegment ? '#' + num(a.openSegment.segment) + ': ' + count(a.openSegment.records, 'record') + ', ' + (a.openSegment.bytes / 1e6).toFixed(1) + ' MB, opened ' + ago(a.openSegment.openedAt) : 'none');
      item('last seal', a.lastSealAt ? when(a.lastSealAt) + ' (' + ago(a.lastSealAt) + ')' : 'not yet');
      item('seals pending', num(a.sealsPending));
      item('S3', a.s3 ? a.s3.destination + ' · backlog ' + count(a.s3.backlog, 'segment') + (a.s3.lastUploadAt ? ' · last upload ' + ago(new Date(a.s3.lastUploadAt).toISOString()) : '') + (a.s3.lastError ? ' · last error: ' + a.s3.lastError : '') : 'not configured (the local directory is the archive)');
      if (a.keyId) item('signing key', a.keyId);
      if (a.encryptionKeyId) item('encryption key', a.encryptionKeyId + ' (AES-256-GCM, a data key per segment)');
      if (a.degraded) item('DEGRADED', a.degraded + ': exports are refused until space is freed');
      if (a.lastCheckpoint) item('newest checkpoint', a.lastCheckpoint);
      return dl;
    }) : [el('p', 'empty', 'no worm exporter in this configuration')]);
    var v = s.lastVerification;
    $('verification').textContent = v ? 'Last verification ' + when(v.at) + ': ' + (v.ok ? 'intact' : 'BROKEN') + ' — ' + v.summary : 'Last verification: none in this process (run npx vigil verify).';

    var an = s.anomalies;
    var learning = an.learning.reduce(function (n, d) { return n + d.learning; }, 0);
    $('threshold').textContent = an.alertBudget === null ? '(no anomaly processor)' : '(' + (an.threshold === null ? 'alert budget ' + an.alertBudget + ' per 1,000 keys a day per detector' : 'threshold ' + an.threshold) + (learning > 0 ? '; still learning: ' + an.learning.filter(function (d) { return d.learning > 0; }).map(function (d) { return d.detector + ' ' + d.learning + '/' + d.keys + ' keys'; }).join(', ') : '') + (an.latestEventAt ? ', latest event ' + when(an.latestEventAt) : '') + ')';
    fill($('recent-list'), an.recent.length ? an.recent.map(function (f) {
      var li = el('li');
      var head = el('div', 'head');
      head.appendChild(breakable('span', 'det', f.detector));
      head.appendChild(breakable('span', 'key', f.key));
      head.appendChild(el('span', 'small', num(f.count) + ' flagged · max score ' + f.maxScore.toFixed(3) + ' · ' + when(f.lastAt)));
      li.appendChild(head);
      li.appendChild(el('div', 'reason', f.reason));
      return li;
    }) : [el('li', 'empty', 'nothing flagged yet')]);

    fill($('hot-body'), an.hotKeys.length ? an.hotKeys.map(function (k) {
      var bar = el('span', 'bar' + (k.flagged ? ' flagged' : ''));
      bar.style.width = Math.round(k.score * 60) + 'px';
      var cell = el('td', 'num');
      cell.appendChild(bar);
      cell.appendChild(document.createTextNode(k.score.toFixed(3)));
      return row([breakable('td', 'det', k.detector), breakable('td', 'key', k.key), cell]);
    }) : [emptyRow(3, 'no key scores above 0.5')]);

    var counts = Object.keys(an.alertsByDetector).map(function (d) { return d + ' ' + num(an.alertsByDetector[d]); });
    $('alert-counts').textContent = counts.length ? '(' + counts.join(' · ') + ')' : '';
    fill($('alerts-body'), an.alerts.length ? an.alerts.slice(0, 50).map(function (a) {
      return row([td('num time', when(a.at)), breakable('td', 'det', a.detector), breakable('td', 'key', a.key), td('sev-' + a.severity, a.severity), td('reason hide-narrow', a.reason)]);
    }) : [emptyRow(5, 'no alerts raised')]);
  }

  function live(on) { $('live').className = on ? 'live on' : 'live'; }

  fetch('/status.json', { cache: 'no-store' }).then(function (r) { return r.ok ? r.json() : null; }).then(function (s) { if (s) render(s); }).catch(function () {});
  if (window.EventSource) {
    var es = new EventSource('/status/events');
    es.addEventListener('status', function (ev) { live(true); render(JSON.parse(ev.data)); });
    es.onerror = function () { live(false); };
  }
})();
`;
