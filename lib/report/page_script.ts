/**
 * The report page's own script (plain ES2019, no libraries): builds the summary, the index and,
 * per pair, the synchronised player, the per-frame curves (inline SVG), the heat map and the
 * worst frames, all from the two JSON blocks of the page. Kept as a string: it runs in the
 * browser, not in Node. Each view canvas carries `currentTime` (seconds) and `data-frame` of the
 * frame it shows, like a <video> would.
 */
export const PAGE_SCRIPT = String.raw`
(function () {
  'use strict';
  var SVG = 'http://www.w3.org/2000/svg';
  var result = JSON.parse(document.getElementById('videovae-result').textContent);
  var media = JSON.parse(document.getElementById('videovae-media').textContent);
  var root = document.getElementById('report');

  function el(tag, attrs, children) {
    var e = document.createElement(tag);
    setAttrs(e, attrs);
    (children || []).forEach(function (c) { e.appendChild(typeof c === 'string' ? document.createTextNode(c) : c); });
    return e;
  }
  function svg(tag, attrs) { var e = document.createElementNS(SVG, tag); setAttrs(e, attrs); return e; }
  function setAttrs(e, attrs) { for (var k in attrs || {}) e.setAttribute(k, attrs[k]); }
  function at(obj, pointer) {
    if (!pointer) return obj;
    pointer.split('/').slice(1).forEach(function (k) { obj = obj[k]; });
    return obj;
  }
  // Heat map colours: dark for high PSNR, bright for low (inferno-like), 50 dB down to 15 dB.
  var STOPS = [[0, 0, 4], [87, 16, 110], [188, 55, 84], [249, 142, 9], [252, 255, 164]];
  function colour(db) {
    var e = Math.max(0, Math.min(1, (50 - db) / 35)) * (STOPS.length - 1);
    var i = Math.min(STOPS.length - 2, Math.floor(e)), u = e - i;
    return STOPS[i].map(function (c, j) { return Math.round(c + (STOPS[i + 1][j] - c) * u); });
  }
  function num(v, digits) { return typeof v === 'number' && isFinite(v) ? v.toFixed(digits) : v === undefined || typeof v === 'number' ? 'n/a' : String(v); }
  function base(p) { return String(p).split(/[\\/]/).pop(); }

  /** Scalar fields of an object, nested ones as a.b (arrays left out: they are the curves). */
  function flatten(obj, prefix, out) {
    for (var k in obj) {
      var v = obj[k];
      if (Array.isArray(v)) continue;
      if (v !== null && typeof v === 'object') flatten(v, prefix + k + '.', out);
      else out.push([prefix + k, v]);
    }
    return out;
  }
  function table(rows, cls) {
    return el('table', { class: cls }, rows.map(function (r) {
      return el('tr', {}, [el('th', {}, [r[0]]), el('td', {}, [r[1] === null ? 'n/a' : typeof r[1] === 'number' && !Number.isInteger(r[1]) ? num(r[1], 4) : String(r[1])])]);
    }));
  }

  // Summary: what the command printed, and the numbers of its --json output.
  root.appendChild(el('section', { class: 'summary', id: 'summary' }, [
    el('h2', {}, ['Summary']),
    el('pre', { class: 'transcript' }, [media.transcript]),
    el('p', { class: 'protocol' }, [media.protocol]),
    table(flatten(result, '', []), 'fields'),
  ]));

  // Index of pairs, worst PSNR first.
  if (media.index) {
    var rows = media.pairs.map(function (m, k) { return { k: k, m: m, r: at(result, m.result) }; });
    rows.sort(function (a, b) { return a.r.psnr - b.r.psnr; });
    var head = el('tr', {}, ['pair', 'frames', 'size', 'PSNR (dB)', 'SSIM'].map(function (h) { return el('th', {}, [h]); }));
    var body = rows.map(function (x) {
      return el('tr', {}, [
        el('td', {}, [el('a', { href: '#pair-' + x.k }, [x.m.name])]),
        el('td', {}, [String(x.r.frames)]),
        el('td', {}, [x.m.width + 'x' + x.m.height]),
        el('td', {}, [num(x.r.psnr, 2)]),
        el('td', {}, [num(x.r.ssim, 4)]),
      ]);
    });
    (result.failed || []).forEach(function (f) {
      body.push(el('tr', { class: 'failed' }, [el('td', {}, [base(f.ref) + ' ~ ' + base(f.test)]), el('td', { colspan: '4' }, ['failed: ' + f.message + ' (' + f.code + ')'])]));
    });
    root.appendChild(el('section', { class: 'index', id: 'index' }, [el('h2', {}, ['Pairs, worst PSNR first']), el('table', { class: 'pairs' }, [head].concat(body))]));
  }

  var players = media.pairs.map(function (m, k) { return new Pair(m, at(result, m.result), k); });
  window.videovaeReport = { players: players };

  function Pair(m, r, k) {
    var self = this;
    var perFrame = r.perFrame;
    var n = perFrame.psnr.length;
    var kept = m.frames;
    var vw = m.view.width, vh = m.view.height;
    var state = { pos: 0, playing: false, speed: 1, t: 0, last: 0 };
    var images = new Map();

    var section = el('section', { class: 'pair', id: 'pair-' + k });
    section.appendChild(el('h2', {}, [m.name]));
    section.appendChild(el('p', { class: 'files' }, ['reference ' + m.ref + ', reconstruction ' + m.test +
      (m.stride > 1 ? ' (the player shows every ' + m.stride + 'th frame; the curves show all)' : '')]));

    var labels = [['ref', 'Reference'], ['test', 'Reconstruction'], ['diff', '|difference| x ' + m.gain]];
    var canvases = labels.map(function (l) { return el('canvas', { class: 'view', 'data-view': l[0], width: String(vw), height: String(vh) }); });
    section.appendChild(el('div', { class: 'views' }, labels.map(function (l, i) { return el('figure', {}, [canvases[i], el('figcaption', {}, [l[1]])]); })));

    var play = el('button', { class: 'play', type: 'button' }, ['Play']);
    var prev = el('button', { class: 'prev', type: 'button', title: 'previous frame' }, ['\u25c0 frame']);
    var next = el('button', { class: 'next', type: 'button', title: 'next frame' }, ['frame \u25b6']);
    var speed = el('select', { class: 'speed' }, ['0.25', '0.5', '1', '2', '4'].map(function (s) { var o = el('option', { value: s }, [s + 'x']); if (s === '1') o.selected = true; return o; }));
    var picker = el('input', { class: 'picker', type: 'range', min: '0', max: String(kept.length - 1), step: '1', value: '0' });
    var label = el('span', { class: 'frame-label' });
    section.appendChild(el('div', { class: 'controls' }, [play, prev, next, el('label', {}, ['speed ', speed]), picker, label]));

    var charts = el('div', { class: 'charts' });
    // SSIM is absent for frames smaller than its 7x7 window: then only the PSNR curve is drawn.
    var hasSsim = Array.isArray(perFrame.ssim) && perFrame.ssim.length > 0;
    var ssimAt = function (f) { return hasSsim ? perFrame.ssim[f] : undefined; };
    var curves = hasSsim ? [chart('psnr', 'PSNR (dB)'), chart('ssim', 'SSIM')] : [chart('psnr', 'PSNR (dB)')];
    section.appendChild(charts);

    var heatCanvas = el('canvas', { class: 'heatmap', width: String(m.heat.cols), height: String(m.heat.rows) });
    var heatLabel = el('p', { class: 'heat-label' });
    var worst = worstFrames();
    section.appendChild(el('div', { class: 'lower' }, [
      el('div', { class: 'heat' }, [el('h3', {}, ['Error per ' + m.heat.cell + ' px block (PSNR)']), heatCanvas, legend(), heatLabel]),
      el('div', { class: 'worst' }, [el('h3', {}, ['Worst frames']), worst.list]),
    ]));
    if (m.result) {
      // A pair of several: its own numbers (a single pair's are the summary's).
      section.appendChild(el('h3', {}, ['Numbers']));
      section.appendChild(table(flatten(r, '', []), 'fields'));
    }
    root.appendChild(section);

    play.addEventListener('click', function () { state.playing ? pause() : start(); });
    prev.addEventListener('click', function () { pause(); show(Math.max(0, state.pos - 1)); });
    next.addEventListener('click', function () { pause(); show(Math.min(kept.length - 1, state.pos + 1)); });
    speed.addEventListener('change', function () { state.speed = Number(speed.value); });
    picker.addEventListener('input', function () { pause(); show(Number(picker.value)); });
    // Keys on the focused pair (click it, or Tab to it): space plays or pauses, arrows step.
    section.tabIndex = 0;
    section.addEventListener('keydown', function (ev) {
      if (ev.target !== section && ev.target !== picker) return;
      if (ev.key === ' ') { state.playing ? pause() : start(); ev.preventDefault(); }
      else if (ev.key === 'ArrowRight') { next.click(); ev.preventDefault(); }
      else if (ev.key === 'ArrowLeft') { prev.click(); ev.preventDefault(); }
    });

    function start() {
      if (kept.length < 2) return;
      state.playing = true;
      state.last = performance.now();
      play.textContent = 'Pause';
      requestAnimationFrame(tick);
    }
    function pause() { state.playing = false; play.textContent = 'Play'; }
    // One clock for the three views: source time advances with the wall clock x speed.
    function tick(now) {
      if (!state.playing) return;
      // A frame's timestamp can be a little older than the click that started playback.
      state.t += (Math.max(0, now - state.last) / 1000) * state.speed;
      state.last = Math.max(now, state.last);
      var duration = n / m.fps;
      if (state.t >= duration) state.t %= duration;
      var pos = Math.min(kept.length - 1, Math.floor(Math.floor(state.t * m.fps) / m.stride));
      if (pos !== state.pos) show(pos, true);
      requestAnimationFrame(tick);
    }

    /** The kept frame at or before source frame f. */
    function posOf(f) {
      var lo = 0, hi = kept.length - 1;
      while (lo < hi) { var mid = (lo + hi + 1) >> 1; if (kept[mid] <= f) lo = mid; else hi = mid - 1; }
      return lo;
    }
    function seek(f) { pause(); show(posOf(f)); }

    function image(pos) {
      var img = images.get(pos);
      if (img) { images.delete(pos); images.set(pos, img); return img; }
      img = new Image();
      img.src = 'data:image/jpeg;base64,' + m.sprites[pos];
      images.set(pos, img);
      if (images.size > 48) images.delete(images.keys().next().value);
      return img;
    }
    function show(pos, fromClock) {
      state.pos = pos;
      if (!fromClock) state.t = kept[pos] / m.fps;
      var img = image(pos);
      var paint = function () { if (state.pos === pos) draw(pos, img); };
      if (img.complete && img.naturalWidth > 0) paint(); else img.decode().then(paint, function () {});
      if (state.playing) for (var i = 1; i <= 3; i++) image((pos + i) % kept.length);
    }
    function draw(pos, img) {
      var f = kept[pos];
      canvases.forEach(function (c, i) {
        c.getContext('2d').drawImage(img, i * vw, 0, vw, vh, 0, 0, vw, vh);
        c.currentTime = f / m.fps;
        c.dataset.frame = String(f);
      });
      picker.value = String(pos);
      label.textContent = 'frame ' + (f + 1) + ' / ' + n + '  ' + (f / m.fps).toFixed(2) + ' s  PSNR ' + num(perFrame.psnr[f], 2) + ' dB  SSIM ' + num(ssimAt(f), 4);
      curves.forEach(function (c) { c.cursor(f); });
      drawHeat(pos);
      worst.mark(f);
      section.dataset.frame = String(f);
    }

    function chart(metric, title) {
      var W = 600, H = 150, L = 44, R = 8, T = 8, B = 20;
      var values = perFrame[metric];
      var finite = values.filter(function (v) { return typeof v === 'number' && isFinite(v); });
      var lo = Math.min.apply(null, finite), hi = Math.max.apply(null, finite);
      if (!(hi > lo)) { lo -= 1; hi += 1; }
      var x = function (f) { return L + (n === 1 ? (W - L - R) / 2 : (f * (W - L - R)) / (n - 1)); };
      var y = function (v) { return T + ((hi - (typeof v === 'number' ? v : lo)) * (H - T - B)) / (hi - lo); };
      var s = svg('svg', { class: 'curve', 'data-metric': metric, viewBox: '0 0 ' + W + ' ' + H, preserveAspectRatio: 'none', role: 'img', 'aria-label': title + ' per frame' });
      s.appendChild(svg('rect', { class: 'plot', x: String(L), y: String(T), width: String(W - L - R), height: String(H - T - B) }));
      [[hi, T], [lo, H - B]].forEach(function (p) {
        var t = svg('text', { x: String(L - 4), y: String(p[1] + 4), 'text-anchor': 'end' });
        t.textContent = num(p[0], metric === 'ssim' ? 3 : 1);
        s.appendChild(t);
      });
      var xl = svg('text', { x: String(W - R), y: String(H - 4), 'text-anchor': 'end' });
      xl.textContent = 'frame ' + n;
      s.appendChild(xl);
      var pts = values.map(function (v, f) { return x(f).toFixed(2) + ',' + y(v).toFixed(2); }).join(' ');
      s.appendChild(svg('polyline', { class: 'line', points: pts }));
      var cursor = svg('line', { class: 'cursor', x1: '0', x2: '0', y1: String(T), y2: String(H - B) });
      s.appendChild(cursor);
      // Clicking anywhere on the chart seeks to the nearest frame.
      s.addEventListener('click', function (ev) {
        var box = s.getBoundingClientRect();
        var vx = ((ev.clientX - box.left) / box.width) * W;
        var f = n === 1 ? 0 : Math.round(((vx - L) * (n - 1)) / (W - L - R));
        seek(Math.max(0, Math.min(n - 1, f)));
      });
      charts.appendChild(el('figure', { class: 'chart' }, [s, el('figcaption', {}, [title + ' per frame (click to seek)'])]));
      return { cursor: function (f) { var cx = String(x(f)); cursor.setAttribute('x1', cx); cursor.setAttribute('x2', cx); } };
    }

    function legend() {
      var c = el('canvas', { class: 'legend', width: '128', height: '1' });
      var g = c.getContext('2d'), d = g.createImageData(128, 1);
      for (var i = 0; i < 128; i++) { var rgb = colour(50 - (i * 35) / 127); d.data.set([rgb[0], rgb[1], rgb[2], 255], i * 4); }
      g.putImageData(d, 0, 0);
      return el('div', { class: 'legend-row' }, [el('span', {}, ['50+ dB']), c, el('span', {}, ['15 dB or less'])]);
    }
    function drawHeat(pos) {
      var raw = atob(m.heatCells[pos]);
      var g = heatCanvas.getContext('2d'), d = g.createImageData(m.heat.cols, m.heat.rows);
      var lowest = 255;
      for (var i = 0; i < raw.length; i++) {
        var b = raw.charCodeAt(i);
        if (b < lowest) lowest = b;
        var rgb = colour(b / 4);
        d.data.set([rgb[0], rgb[1], rgb[2], 255], i * 4);
      }
      g.putImageData(d, 0, 0);
      heatLabel.textContent = 'frame ' + (kept[pos] + 1) + ': worst block ' + (lowest === 255 ? 'identical' : (lowest / 4).toFixed(1) + ' dB');
    }

    function worstFrames() {
      var order = perFrame.psnr.map(function (v, f) { return f; });
      order.sort(function (a, b) { return perFrame.psnr[a] - perFrame.psnr[b]; });
      var items = order.slice(0, 5).map(function (f) {
        var b = el('button', { type: 'button', 'data-frame': String(f) }, ['frame ' + (f + 1) + ': PSNR ' + num(perFrame.psnr[f], 2) + ' dB, SSIM ' + num(ssimAt(f), 4)]);
        b.addEventListener('click', function () { seek(f); });
        return el('li', {}, [b]);
      });
      var list = el('ol', { class: 'worst-list' }, items);
      return {
        list: list,
        mark: function (f) { items.forEach(function (li) { li.firstChild.classList.toggle('current', Number(li.firstChild.dataset.frame) === f); }); },
      };
    }

    show(0);
    self.seek = seek;
    self.section = section;
  }
})();
`
