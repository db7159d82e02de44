// slimscope report: a zoomable treemap over the trees that slimscope.html.data
// encodes (preorder arrays, see data.py). Only the directory in view is laid out,
// and files too small to see are drawn as one "N small files" tile, so the page
// stays quick on 200,000 paths; every path stays reachable by zoom, the tile's
// list, and search.
(function () {
  "use strict";
  unpack(document.getElementById("slimscope-data")).then(main, function (err) {
    var map = document.getElementById("map");
    if (map) map.innerHTML = '<p class="empty">This browser cannot unpack the treemap (' +
      String(err).replace(/[&<>]/g, "") + '); the tables below hold the same numbers.</p>';
    ready();
  });

  // The data is gzipped JSON in base64 (page.py): a quarter of the bytes of plain
  // JSON, unpacked by the browser's own DecompressionStream.
  function unpack(el) {
    if (el.dataset.encoding !== "gzip+base64") return Promise.resolve(JSON.parse(el.textContent));
    if (typeof DecompressionStream === "undefined") return Promise.reject("no DecompressionStream");
    var bin = atob(el.textContent.trim()), bytes = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
    var stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
    return new Response(stream).text().then(JSON.parse);
  }

  function ready() {
    window.slimscopeReady = performance.now();
    document.documentElement.dataset.ready = "1";
  }

  function main(DATA) {
  var map = document.getElementById("map");
  if (!map || !DATA.trees.length) { ready(); return; }
  var MIN_AREA = 220;      // px²: below this a file joins its directory's small-files tile
  var HEAD = 16;           // px: a directory's label strip
  var MAX_DEPTH = 12;
  var tip = document.getElementById("tip");
  var crumbs = document.getElementById("breadcrumb");
  var legend = document.getElementById("legend");
  var sideList = document.getElementById("side-list");
  var search = document.getElementById("search");
  var count = document.getElementById("search-count");
  var buttons = document.querySelectorAll(".tree-btn");
  var trees = DATA.trees.map(function (t) { return { raw: t, dec: null, root: 0 }; });
  var cur = null, query = "";

  function fmt(n) {
    if (n < 1000) return n === 1 ? "1 Byte" : n + " Bytes";
    var units = ["kB", "MB", "GB", "TB", "PB", "EB"], i = 0, x = n / 1000;
    while (x >= 1000 && i < units.length - 1) { x /= 1000; i++; }
    return x.toFixed(1) + " " + units[i];
  }
  function pct(a, b) { return b ? (100 * a / b).toFixed(1) + "%" : "0%"; }

  function decode(t) {
    var N = t.n.length, parent = new Int32Array(N), tot = new Float64Array(N);
    var isDir = new Uint8Array(N), nkids = new Int32Array(N);
    var stack = [0], rem = [~t.v[0]];
    parent[0] = -1; isDir[0] = 1;
    for (var i = 1; i < N; i++) {
      while (rem[rem.length - 1] === 0) { stack.pop(); rem.pop(); }
      var p = stack[stack.length - 1];
      parent[i] = p; rem[rem.length - 1]--; nkids[p]++;
      var v = t.v[i];
      if (v < 0) { isDir[i] = 1; stack.push(i); rem.push(~v); } else tot[i] = v;
    }
    for (i = N - 1; i > 0; i--) tot[parent[i]] += tot[i];
    // Children in CSR form; preorder keeps data.py's largest-first order.
    var start = new Int32Array(N + 1), fill = new Int32Array(N), kids = new Int32Array(N);
    for (i = 0; i < N; i++) start[i + 1] = start[i] + nkids[i];
    for (i = 1; i < N; i++) { p = parent[i]; kids[start[p] + fill[p]++] = i; }
    return { N: N, parent: parent, tot: tot, isDir: isDir, start: start, kids: kids,
             main: mainColours(t, N, parent, tot, isDir), paths: null, hit: null, under: null };
  }

  function legendOf(t, i) { return t.k[i] < 0 ? -1 : t.c[t.k[i]]; }

  // Each directory's colour: the legend entry (layer, reason) holding most of its
  // bytes, so a directory drawn as one tile still shows where its bytes came from.
  function mainColours(t, N, parent, tot, isDir) {
    var L = t.legend.length, main = new Int16Array(N).fill(-1), slot = new Int32Array(N).fill(-1);
    var ndirs = 0, i;
    for (i = 0; i < N; i++) if (isDir[i]) slot[i] = ndirs++;
    if (!L || ndirs * L > 8e6) return main;
    var sums = new Float64Array(ndirs * L);
    for (i = N - 1; i > 0; i--) {
      var ps = slot[parent[i]] * L;
      if (isDir[i]) {
        var s = slot[i] * L;
        for (var c = 0; c < L; c++) sums[ps + c] += sums[s + c];
      } else {
        var l = legendOf(t, i);
        if (l >= 0) sums[ps + l] += tot[i];
      }
    }
    for (i = 0; i < N; i++) {
      if (!isDir[i]) { main[i] = legendOf(t, i); continue; }
      var best = -1, most = 0, b = slot[i] * L;
      for (c = 0; c < L; c++) if (sums[b + c] > most) { most = sums[b + c]; best = c; }
      main[i] = best;
    }
    return main;
  }

  function paths(d, t) {
    if (!d.paths) {
      var ps = new Array(d.N);
      ps[0] = "/";
      for (var i = 1; i < d.N; i++) {
        var p = d.parent[i];
        ps[i] = (p === 0 ? "/" : ps[p] + "/") + t.n[i];
      }
      d.paths = ps;
    }
    return d.paths;
  }

  function pathOf(d, t, i) {
    if (d.paths) return d.paths[i];
    var parts = [];
    for (; i > 0; i = d.parent[i]) parts.push(t.n[i]);
    return "/" + parts.reverse().join("/");
  }

  function colour(t, d, i) {
    var c = d.main[i];
    return c < 0 ? null : t.legend[c][1];
  }

  function aggColour(t, d, o) {
    var by = {}, best = -1, most = -1, e = d.start[o.agg + 1];
    for (var k = o.from; k < e; k++) {
      var m = d.main[d.kids[k]];
      by[m] = (by[m] || 0) + d.tot[d.kids[k]];
      if (by[m] > most) { most = by[m]; best = m; }
    }
    return best < 0 ? null : t.legend[best][1];
  }

  // The part of the tree big enough to draw, as d3.hierarchy input.
  function visible(d, r, scale) {
    function node(i, depth) {
      var o = { i: i, value: 0 };
      if (!d.isDir[i] || depth >= MAX_DEPTH || (depth > 0 && d.tot[i] * scale < MIN_AREA * 8)) {
        o.value = d.tot[i];
        return o;
      }
      o.children = [];
      var s = d.start[i], e = d.start[i + 1], k = s;
      for (; k < e; k++) {
        var c = d.kids[k];
        if (d.tot[c] * scale < MIN_AREA) break;
        o.children.push(node(c, depth + 1));
      }
      var n = 0, sum = 0;
      for (var j = k; j < e; j++) { if (d.tot[d.kids[j]] > 0) { n++; sum += d.tot[d.kids[j]]; } }
      if (n) o.children.push({ agg: i, from: k, n: n, value: sum });
      if (!o.children.length) { delete o.children; o.value = d.tot[i]; o.empty = true; }
      return o;
    }
    return node(r, 0);
  }

  function render() {
    var t = cur.raw, d = cur.dec, r = cur.root;
    var W = map.clientWidth, H = map.clientHeight;
    map.textContent = "";
    map.classList.toggle("searching", !!d.hit);
    tip.hidden = true;
    drawCrumbs();
    if (!d.tot[r]) {
      map.innerHTML = '<p class="empty">Nothing here: 0 bytes.</p>';
      return;
    }
    var scale = W * H / d.tot[r];
    var root = d3.hierarchy(visible(d, r, scale), function (o) { return o.children; })
      .sum(function (o) { return o.children ? 0 : o.value; });
    d3.treemap().tile(d3.treemapSquarify).size([W, H]).round(true)
      .paddingInner(1)
      .paddingTop(function (n) { return n.depth && n.y1 - n.y0 > 2 * HEAD && n.x1 - n.x0 > 40 ? HEAD : 1; })
      .paddingLeft(1).paddingRight(1).paddingBottom(1)(root);
    var frag = document.createDocumentFragment();
    root.each(function (n) {
      if (!n.depth) return;
      var o = n.data, w = n.x1 - n.x0, h = n.y1 - n.y0;
      if (w < 1 || h < 1) return;
      var el = document.createElement("div");
      el.style.cssText = "left:" + n.x0 + "px;top:" + n.y0 + "px;width:" + w + "px;height:" + h + "px";
      var label;
      if (o.agg !== undefined) {
        el.className = "tile agg";
        el.dataset.agg = o.agg;
        el.dataset.from = o.from;
        var bg = aggColour(t, d, o);
        if (bg) el.style.backgroundColor = bg;
        label = o.n + " small " + (o.n === 1 ? "file" : "files");
        if (d.hit && aggHit(d, o)) el.classList.add("hit");
      } else {
        var i = o.i;
        el.dataset.i = i;
        el.dataset.path = pathOf(d, t, i);
        label = t.n[i];
        if (n.children) {
          el.className = "dir";
        } else {
          el.className = d.isDir[i] ? "tile dirleaf" : "tile";
          var c = colour(t, d, i);
          if (c) el.style.backgroundColor = c;
        }
        if (d.hit) {
          // A directory drawn as one tile cannot show its matches: it lights up itself.
          if (d.hit[i] || (d.under[i] && !n.children)) el.classList.add("hit");
          else if (d.under[i]) el.classList.add("has-hit");
        }
      }
      if (n.children ? w > 34 && h > 13 : w > 56 && h > 15) {
        var s = document.createElement("span");
        s.textContent = label + (w > 90 ? " " + fmt(n.value) : "");
        el.appendChild(s);
      }
      frag.appendChild(el);
    });
    map.appendChild(frag);
  }

  function aggHit(d, o) {
    var e = d.start[o.agg + 1];
    for (var k = o.from; k < e; k++) if (d.hit[d.kids[k]] || d.under[d.kids[k]]) return true;
    return false;
  }

  function drawCrumbs() {
    var d = cur.dec, t = cur.raw, chain = [];
    for (var i = cur.root; i >= 0; i = d.parent[i]) chain.unshift(i);
    crumbs.textContent = "";
    chain.forEach(function (i, j) {
      var b = document.createElement("button");
      b.type = "button";
      b.className = "crumb";
      b.dataset.i = i;
      b.textContent = j === 0 ? "/" : t.n[i];
      crumbs.appendChild(b);
    });
    var s = document.createElement("span");
    s.className = "crumb-size";
    s.textContent = fmt(d.tot[cur.root]) + " · " + pct(d.tot[cur.root], d.tot[0]) + " of " + t.unit;
    crumbs.appendChild(s);
  }

  function drawLegend() {
    legend.textContent = "";
    var h = document.createElement("h3");
    h.textContent = cur.raw.label + ": " + fmt(cur.raw.total);
    legend.appendChild(h);
    cur.raw.legend.forEach(function (l) {
      var row = document.createElement("div");
      row.className = "key";
      var sw = document.createElement("i");
      sw.style.background = l[1];
      row.appendChild(sw);
      row.appendChild(document.createTextNode(l[0]));
      legend.appendChild(row);
    });
  }

  function zoom(i) {
    var d = cur.dec;
    while (i > 0 && !d.isDir[i]) i = d.parent[i];
    cur.root = Math.max(i, 0);
    render();
  }

  function show(k) {
    cur = trees[k];
    if (!cur.dec) { cur.dec = decode(cur.raw); if (query) paths(cur.dec, cur.raw); }
    for (var b = 0; b < buttons.length; b++) buttons[b].classList.toggle("on", b === k);
    sideList.textContent = "";
    drawLegend();
    applySearch();
  }

  function tipFor(el) {
    var t = cur.raw, d = cur.dec, ps = paths(d, t), lines = [];
    if (el.dataset.agg !== undefined) {
      var a = +el.dataset.agg, from = +el.dataset.from, e = d.start[a + 1], sum = 0;
      for (var k = from; k < e; k++) sum += d.tot[d.kids[k]];
      lines.push("<b>" + esc(String(e - from)) + " small entries in " + esc(ps[a]) + "</b>");
      lines.push(fmt(sum) + " · " + pct(sum, d.tot[cur.root]) + " of view · " + pct(sum, d.tot[0]) + " of all");
      lines.push("click to list them");
    } else {
      var i = +el.dataset.i;
      lines.push("<b>" + esc(ps[i]) + (d.isDir[i] ? "/" : "") + "</b>");
      lines.push(fmt(d.tot[i]) + " · " + pct(d.tot[i], d.tot[cur.root]) + " of view · " + pct(d.tot[i], d.tot[0]) + " of all");
      if (t.k[i] >= 0) lines.push(esc(t.kt[t.k[i]]));
      if (t.x[i]) lines.push(esc(t.x[i]));
    }
    return lines.join("<br>");
  }

  function esc(s) {
    return s.replace(/[&<>"]/g, function (c) { return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" }[c]; });
  }

  function listItems(title, items) {
    var t = cur.raw, d = cur.dec, ps = paths(d, t);
    sideList.textContent = "";
    var h = document.createElement("h3");
    h.textContent = title;
    sideList.appendChild(h);
    var ul = document.createElement("ul");
    items.slice(0, 300).forEach(function (i) {
      var li = document.createElement("li");
      li.dataset.i = i;
      var sz = document.createElement("span"), pt = document.createElement("span");
      sz.className = "sz";
      sz.textContent = fmt(d.tot[i]);
      pt.className = "p";
      pt.textContent = ps[i] + (d.isDir[i] ? "/" : "");
      li.appendChild(sz);
      li.appendChild(pt);
      ul.appendChild(li);
    });
    if (items.length > 300) {
      var more = document.createElement("li");
      more.className = "more";
      more.textContent = "… " + (items.length - 300) + " more (search narrows them)";
      ul.appendChild(more);
    }
    sideList.appendChild(ul);
  }

  function applySearch() {
    var d = cur.dec;
    d.hit = d.under = null;
    if (query.length < 2) {
      if (count.textContent) sideList.textContent = "";
      count.textContent = "";
      render();
      return;
    }
    var ps = paths(d, cur.raw), q = query.toLowerCase(), hit = new Uint8Array(d.N);
    var under = new Uint8Array(d.N), found = [];
    for (var i = 1; i < d.N; i++) {
      if (ps[i].toLowerCase().indexOf(q) >= 0) {
        hit[i] = 1;
        found.push(i);
        for (var p = d.parent[i]; p >= 0 && !under[p]; p = d.parent[p]) under[p] = 1;
      }
    }
    d.hit = hit; d.under = under;
    count.textContent = found.length + (found.length === 1 ? " path matches" : " paths match");
    found.sort(function (a, b) { return d.tot[b] - d.tot[a]; });
    listItems("Matches for “" + query + "”", found);
    render();
  }

  map.addEventListener("mousemove", function (ev) {
    var el = ev.target.closest(".tile, .dir");
    if (!el) { tip.hidden = true; return; }
    tip.innerHTML = tipFor(el);
    tip.hidden = false;
    var x = ev.clientX + 14, y = ev.clientY + 14;
    if (x + tip.offsetWidth > window.innerWidth) x = ev.clientX - tip.offsetWidth - 8;
    if (y + tip.offsetHeight > window.innerHeight) y = ev.clientY - tip.offsetHeight - 8;
    tip.style.left = x + "px";
    tip.style.top = y + "px";
  });
  map.addEventListener("mouseleave", function () { tip.hidden = true; });
  map.addEventListener("click", function (ev) {
    var el = ev.target.closest(".tile, .dir");
    if (!el) return;
    var d = cur.dec;
    if (el.dataset.agg !== undefined) {
      var a = +el.dataset.agg, items = [];
      for (var k = +el.dataset.from; k < d.start[a + 1]; k++) items.push(d.kids[k]);
      listItems("Small entries of " + paths(d, cur.raw)[a], items);
      return;
    }
    // One level at a time: into the child of the view that holds what was clicked.
    var i = +el.dataset.i;
    while (i > 0 && d.parent[i] !== cur.root) i = d.parent[i];
    if (i > 0 && d.isDir[i]) zoom(i);
  });
  crumbs.addEventListener("click", function (ev) {
    var b = ev.target.closest(".crumb");
    if (b) zoom(+b.dataset.i);
  });
  sideList.addEventListener("click", function (ev) {
    var li = ev.target.closest("li[data-i]");
    if (li) zoom(+li.dataset.i);
  });
  for (var b = 0; b < buttons.length; b++) {
    buttons[b].addEventListener("click", function (ev) { show(+ev.currentTarget.dataset.tree); });
  }
  // Escape goes up one directory, as the breadcrumb's last-but-one step does.
  document.addEventListener("keydown", function (ev) {
    if (ev.key !== "Escape" || ev.target === search || cur.root === 0) return;
    zoom(cur.dec.parent[cur.root]);
  });
  var timer = 0;
  search.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(function () { query = search.value.trim(); applySearch(); }, 150);
  });
  var resizeTimer = 0;
  window.addEventListener("resize", function () {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(render, 120);
  });

  show(0);
  ready();
  }
})();
