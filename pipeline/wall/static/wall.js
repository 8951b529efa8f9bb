// luister wall: fetches wall/data every 15 s and draws it. Charts: uPlot (vendored, no CDN).
//
// State for people and tests, in the DOM:
//   body[data-state]            loading | ready | waiting (no mentions at all) | stale (last refresh failed) | error
//   body[data-updated]          the server time of the data shown (ISO 8601)
//   .chart[data-points]         non-null values drawn in that chart (0: the card shows its "no data" text)
//   #chart-volume[data-total]   mentions drawn in the volume chart
//   ol[data-rows]               rows in a list; data-shown: those that fit on the screen
//   #incident-banner            hidden unless an incident is open; data-count = open incidents
//   .card.is-failed             its query failed on the server (the others still show)
// Post texts come from the internet: they only ever go through textContent, never innerHTML.
(function () {
  "use strict";

  var REFRESH_MS = 15000;
  var COLORS = { negative: "#ff5f5f", neutral: "#8fa3b8", positive: "#3ddc97", accent: "#5aa9ff" };
  var OTHER_BRANDS = ["#f5b942", "#c792ea", "#4dd0e1", "#ff8a65", "#aed581", "#f06292"];
  var SEVERITY_RANK = { low: 0, medium: 1, high: 2, critical: 3 };
  var CARDS = {
    share_of_voice: "card-sov",
    volume_by_sentiment: "card-volume",
    negative_share_band: "card-negative",
    share_of_voice_over_time: "card-sov-time",
    top_topics: "card-topics",
    top_intents: "card-intents",
    languages: "card-where",
    platforms: "card-where",
    high_reach_negative: "card-posts",
  };
  var SIGNALS = {
    volume: "mention volume",
    negative_volume: "negative volume",
    negative_share: "negative share",
    reach_negativity: "high-reach negativity",
    near_duplicates: "copy-paste wave",
    theme: "new theme",
  };

  var params = new URLSearchParams(window.location.search);
  var brand = params.get("brand") || "";
  var hours = parseInt(params.get("hours"), 10) || 6;
  var charts = {};
  var lastUpdated = null;
  var lastData = null;
  var timer = null;

  // ------------------------------------------------------------------ small helpers
  function $(id) { return document.getElementById(id); }

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function rowsOf(panel) {
    if (!panel) return [];
    return panel.rows.map(function (row) {
      var out = {};
      panel.columns.forEach(function (c, i) { out[c] = row[i]; });
      return out;
    });
  }

  var compact = new Intl.NumberFormat("en", { notation: "compact", maximumFractionDigits: 1 });
  var whole = new Intl.NumberFormat("en");
  function count(n) { return n >= 10000 ? compact.format(n) : whole.format(n); }
  function pct(x, digits) {
    if (x === null || x === undefined || isNaN(x)) return "–";
    if (x > 0 && x < 0.005 && !digits) return "<1%";
    return (100 * x).toFixed(digits === undefined ? 0 : digits) + "%";
  }
  // Times in the screen's time zone, 24-hour clock (the browser's locale may prefer 12-hour).
  var DAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
  function pad(n) { return (n < 10 ? "0" : "") + n; }
  function hhmm(d) { return pad(d.getHours()) + ":" + pad(d.getMinutes()); }
  function clock(iso) { return hhmm(new Date(iso)); }
  function clockSeconds(iso) { var d = new Date(iso); return hhmm(d) + ":" + pad(d.getSeconds()); }
  function label(name) { return String(name).replace(/_/g, " "); }
  function since(iso) {
    var minutes = Math.max(0, Math.round((Date.now() - new Date(iso).getTime()) / 60000));
    if (minutes < 60) return minutes + " min";
    var h = Math.floor(minutes / 60);
    return h < 48 ? h + " h " + (minutes % 60) + " min" : Math.floor(h / 24) + " days";
  }
  function setEmpty(cardId, empty) { $(cardId).classList.toggle("is-empty", empty); }

  // Drop whole rows that do not fit (a small screen) rather than showing half a row.
  function fitLists() { document.querySelectorAll("#grid .bars, #grid .posts").forEach(fitRows); }
  function fitRows(list) {
    while (list.lastElementChild && list.scrollHeight > list.clientHeight + 1) list.removeChild(list.lastElementChild);
    list.dataset.shown = String(list.children.length);
  }

  // ------------------------------------------------------------------ header
  function renderBrands(data) {
    var select = $("brand");
    var names = data.brands.slice();
    if (data.brand && names.indexOf(data.brand) < 0) names.unshift(data.brand);
    var current = Array.prototype.map.call(select.options, function (o) { return o.value; });
    if (current.join("\n") !== names.join("\n")) {
      select.replaceChildren();
      names.forEach(function (name) { select.appendChild(el("option", "", name)).value = name; });
    }
    select.value = data.brand || "";
    select.hidden = names.length === 0;
  }

  function renderRanges() {
    document.querySelectorAll("#ranges button").forEach(function (button) {
      button.setAttribute("aria-pressed", String(Number(button.dataset.hours) === hours));
    });
  }

  function setStatus(text) { $("status").textContent = text; }

  // ------------------------------------------------------------------ incident banner
  function renderIncidents(incidents) {
    var banner = $("incident-banner");
    banner.dataset.count = String(incidents.length);
    if (!incidents.length) {
      banner.hidden = true;
      return;
    }
    var worst = incidents.slice().sort(function (a, b) {
      return (SEVERITY_RANK[b.severity] || 0) - (SEVERITY_RANK[a.severity] || 0) || (a.opened_at < b.opened_at ? 1 : -1);
    })[0];
    $("incident-title").textContent = "Open incident · " + worst.severity;
    var what = SIGNALS[worst.signal] || worst.signal;
    var summary = worst.summary || "";
    $("incident-text").textContent =
      !summary ? what : summary.toLowerCase().indexOf(what) >= 0 ? summary : summary + " (" + what + ")";
    $("incident-more").textContent =
      "since " + clock(worst.opened_at) + " · " + since(worst.opened_at) +
      (incidents.length > 1 ? " · +" + (incidents.length - 1) + " more open" : "");
    banner.hidden = false;
  }

  // ------------------------------------------------------------------ KPIs
  function renderKpis(data) {
    var head = rowsOf(data.panels.headline)[0] || { mentions: 0, negative: 0, negative_share: 0, reach: 0 };
    var mentions = $("kpi-mentions"), negative = $("kpi-negative"), reach = $("kpi-reach");
    mentions.querySelector("[data-value]").textContent = count(head.mentions);
    mentions.querySelector("[data-sub]").textContent = "last " + (hours >= 48 ? hours / 24 + " days" : hours + " h");
    var big = negative.querySelector("[data-value]");
    big.textContent = head.mentions ? pct(head.negative_share) : "–";
    var band = lastBand(data.panels.negative_share_band);
    big.classList.toggle("alarm", !!(band && head.mentions && head.negative_share > band.high));
    big.classList.toggle("calm", !!(band && head.mentions && head.negative_share <= band.high));
    negative.querySelector("[data-sub]").textContent =
      count(head.negative) + " of " + count(head.mentions) +
      (band ? " · usual " + pct(band.low) + "–" + pct(band.high) : "");
    reach.querySelector("[data-value]").textContent = count(head.reach);
  }

  function lastBand(panel) {
    var rows = rowsOf(panel).filter(function (r) { return r.baseline_high !== null && r.baseline_low !== null; });
    if (!rows.length) return null;
    var last = rows[rows.length - 1];
    return { low: last.baseline_low, high: last.baseline_high };
  }

  // ------------------------------------------------------------------ bar lists
  function renderBars(listId, items) {
    // items: [{label, fraction (0..1 of the bar), value, note, cls}]
    var list = $(listId);
    list.replaceChildren();
    items.forEach(function (item) {
      var li = el("li", item.cls || "");
      li.appendChild(el("span", "label", item.label)).title = item.label;
      var track = li.appendChild(el("span", "track"));
      var fill = track.appendChild(el("span", "fill"));
      fill.style.width = Math.max(0, Math.min(1, item.fraction)) * 100 + "%";
      if (item.color) fill.style.background = item.color;
      var value = li.appendChild(el("span", "value", item.value));
      if (item.note) value.appendChild(el("small", "", item.note));
      list.appendChild(li);
    });
    list.dataset.rows = String(items.length);
    return items.length;
  }

  function renderLists(data) {
    var p = data.panels;
    var sov = rowsOf(p.share_of_voice);
    var top = Math.max.apply(null, sov.map(function (r) { return r.share; }).concat([0]));
    var n = renderBars("list-sov", sov.slice(0, 5).map(function (r) {
      return {
        label: r.brand, fraction: top ? r.share / top : 0, value: pct(r.share),
        cls: r.brand === data.brand ? "selected" : "other",
      };
    }));
    setEmpty("card-sov", n === 0);

    var topics = rowsOf(p.top_topics);
    var most = topics.length ? topics[0].topic_mentions : 0;
    n = renderBars("list-topics", topics.slice(0, 7).map(function (r) {
      return {
        label: label(r.topic), fraction: most ? r.topic_mentions / most : 0, value: count(r.topic_mentions),
        note: pct(r.negative_share), cls: r.negative_share >= 0.5 ? "hot" : "",
        color: r.negative_share >= 0.5 ? COLORS.negative : COLORS.accent,
      };
    }));
    setEmpty("card-topics", n === 0);

    var intents = rowsOf(p.top_intents);
    var topIntent = intents.length ? intents[0].share : 0;
    n = renderBars("list-intents", intents.slice(0, 7).map(function (r) {
      return {
        label: label(r.intent), fraction: topIntent ? r.share / topIntent : 0, value: pct(r.share),
        color: r.intent === "complaint" ? COLORS.negative : r.intent === "praise" ? COLORS.positive : COLORS.accent,
      };
    }));
    setEmpty("card-intents", n === 0);

    function shares(rows, key) {
      var first = rows.length ? rows[0].share : 0;
      return rows.slice(0, 4).map(function (r) {
        return { label: r[key] || "?", fraction: first ? r.share / first : 0, value: pct(r.share) };
      });
    }
    var langs = renderBars("list-languages", shares(rowsOf(p.languages), "lang"));
    var platforms = renderBars("list-platforms", shares(rowsOf(p.platforms), "platform"));
    setEmpty("card-where", langs + platforms === 0);

    var list = $("list-posts");
    list.replaceChildren();
    var posts = rowsOf(p.high_reach_negative).slice(0, 4);
    posts.forEach(function (r) {
      var li = el("li");
      var meta = li.appendChild(el("div", "meta"));
      meta.appendChild(el("strong", "", count(r.reach) + " reach"));
      meta.appendChild(document.createTextNode(
        " · " + clock(r.created_at) + " · " + r.platform + " · @" + r.author_handle
      ));
      li.appendChild(el("div", "text", r.excerpt));
      list.appendChild(li);
    });
    list.dataset.rows = String(posts.length);
    setEmpty("card-posts", posts.length === 0);
  }

  // ------------------------------------------------------------------ charts
  function axisStyle(format) {
    var axis = {
      stroke: "#93a1b0",
      font: "16px 'DejaVu Sans', sans-serif",
      size: 62,
      grid: { stroke: "rgba(255,255,255,0.07)", width: 1 },
      ticks: { stroke: "rgba(255,255,255,0.15)", width: 1 },
    };
    if (format) axis.values = function (u, values) { return values.map(format); };
    return axis;
  }

  function timeAxis() {
    var axis = axisStyle(function (ts) {
      var d = new Date(ts * 1000);
      return d.getHours() === 0 && d.getMinutes() === 0 ? DAYS[d.getDay()] + " " + d.getDate() : hhmm(d);
    });
    axis.size = 34;
    axis.space = 90;
    return axis;
  }

  function percentAxis(v) { return Math.round(v * 100) + "%"; }

  function countPoints(series) {
    var n = 0;
    series.forEach(function (s) { s.values.forEach(function (v) { if (v !== null) n += 1; }); });
    return n;
  }

  function drawChart(id, cardId, series, options, data) {
    var box = $(id);
    var points = series ? countPoints(series.series) : 0;
    box.dataset.points = String(points);
    setEmpty(cardId, points === 0);
    if (points === 0) {
      if (charts[id]) { charts[id].destroy(); delete charts[id]; }
      return;
    }
    var size = { width: Math.max(box.clientWidth, 100), height: Math.max(box.clientHeight, 80) };
    if (charts[id] && charts[id].series.length === options.series.length) {
      charts[id].setData(data);
      charts[id].setSize(size);
      return;
    }
    if (charts[id]) charts[id].destroy();
    options.width = size.width;
    options.height = size.height;
    options.legend = { show: false };
    options.cursor = { show: false };
    options.axes = [timeAxis(), options.yAxis || axisStyle()];
    charts[id] = new uPlot(options, data, box);
  }

  function valuesOf(series, name) {
    var found = series.series.filter(function (s) { return s.name === name; })[0];
    return found ? found.values : series.time.map(function () { return null; });
  }

  function legend(id, keys) {
    var box = $(id);
    box.replaceChildren();
    keys.forEach(function (k) {
      var key = box.appendChild(el("span", "key"));
      var swatch = key.appendChild(el("span", "swatch" + (k.band ? " band" : "")));
      swatch.style.background = k.color;
      key.appendChild(el("span", "", k.label));
      if (k.value !== undefined) key.appendChild(el("span", "value", k.value));
    });
  }

  function renderVolume(panel, data) {
    var s = panel && panel.series;
    var neg = s ? valuesOf(s, "negative") : [], neu = s ? valuesOf(s, "neutral") : [], pos = s ? valuesOf(s, "positive") : [];
    var sum = function (xs) { return xs.reduce(function (a, b) { return a + (b || 0); }, 0); };
    var total = sum(neg) + sum(neu) + sum(pos);
    $("chart-volume").dataset.total = String(total);
    // Stacked by drawing the running totals back to front: all (positive on top), negative + neutral, negative.
    var lower = neg.map(function (v, i) { return (v || 0) + (neu[i] || 0); });
    var all = lower.map(function (v, i) { return v + (pos[i] || 0); });
    legend("legend-volume", [
      { label: "negative", color: COLORS.negative, value: count(sum(neg)) },
      { label: "neutral", color: COLORS.neutral, value: count(sum(neu)) },
      { label: "positive", color: COLORS.positive, value: count(sum(pos)) },
    ]);
    var filled = function (color) {
      return { stroke: color, width: 2, fill: color + "cc", points: { show: false } };
    };
    // The interval still in progress is only partly counted: drawn, it would always look like a drop at the end.
    // The legend's totals include it.
    var complete = Date.parse(data.to) / 1000 - data.interval_s;
    var done = function (xs) {
      return xs.map(function (v, i) { return s.time[i] <= complete ? v : null; });
    };
    drawChart("chart-volume", "card-volume", total > 0 ? s : null, {
      series: [{}, filled(COLORS.positive), filled(COLORS.neutral), filled(COLORS.negative)],
      scales: { y: { range: function (u, min, max) { return [0, Math.max(1, max * 1.08)]; } } },
    }, s ? [s.time, done(all), done(lower), done(neg.map(function (v) { return v || 0; }))] : null);
  }

  function renderNegative(panel) {
    var s = panel && panel.series;
    var share = s ? valuesOf(s, "negative_share") : [];
    var low = s ? valuesOf(s, "baseline_low") : [], high = s ? valuesOf(s, "baseline_high") : [];
    var few = share.length < 8;
    var band = "rgba(143,163,184,0.25)";
    var latest = share.filter(function (v) { return v !== null; }).slice(-1)[0];
    legend("legend-negative", [
      { label: "negative share", color: COLORS.negative, value: latest === undefined ? undefined : pct(latest) },
      { label: "usual (10–90%)", color: band, band: true },
    ]);
    drawChart("chart-negative", "card-negative", s ? { series: [{ values: share }] } : null, {
      series: [
        {},
        { stroke: COLORS.negative, width: 3, points: { show: few, size: 10, fill: COLORS.negative } },
        { stroke: "rgba(143,163,184,0.6)", width: 1 },
        { stroke: "rgba(143,163,184,0.6)", width: 1 },
      ],
      bands: [{ series: [3, 2], fill: band }],
      scales: { y: { range: function (u, min, max) { return [0, Math.min(1, Math.max(0.25, (max || 0) * 1.15))]; } } },
      yAxis: axisStyle(percentAxis),
    }, s ? [s.time, share, low, high] : null);
  }

  function renderShareOverTime(panel, selected, brands) {
    var s = panel && panel.series;
    var names = s ? s.series.map(function (x) { return x.name; }) : [];
    // A brand keeps its colour from one refresh to the next: by its place in the (stable) brand list.
    var colors = names.map(function (name) {
      var at = brands.indexOf(name);
      return name === selected ? COLORS.accent : OTHER_BRANDS[(at < 0 ? 0 : at) % OTHER_BRANDS.length];
    });
    legend("legend-sov-time", names.map(function (name, i) {
      var values = s.series[i].values.filter(function (v) { return v !== null; });
      return { label: name, color: colors[i], value: values.length ? pct(values[values.length - 1]) : undefined };
    }));
    var few = s ? s.time.length < 8 : false;
    drawChart("chart-sov-time", "card-sov-time", s, {
      series: [{}].concat(names.map(function (name, i) {
        return {
          stroke: colors[i], width: name === selected ? 4 : 2,
          points: { show: few, size: 8, fill: colors[i] },
        };
      })),
      scales: { y: { range: [0, 1] } },
      yAxis: axisStyle(percentAxis),
    }, s ? [s.time].concat(s.series.map(function (x) { return x.values; })) : null);
  }

  function markFailures(errors) {
    Object.keys(CARDS).forEach(function (key) { $(CARDS[key]).classList.remove("is-failed"); });
    Object.keys(errors).forEach(function (key) {
      if (CARDS[key]) $(CARDS[key]).classList.add("is-failed", "is-empty");
    });
  }

  // ------------------------------------------------------------------ one refresh
  function render(data) {
    renderBrands(data);
    renderRanges();
    brand = data.brand || "";
    var waiting = !data.brand;
    $("waiting").hidden = !waiting;
    $("grid").hidden = waiting;
    renderIncidents(data.incidents || []);
    if (waiting) return "waiting";
    renderKpis(data);
    renderLists(data);
    renderVolume(data.panels.volume_by_sentiment, data);
    renderNegative(data.panels.negative_share_band);
    renderShareOverTime(data.panels.share_of_voice_over_time, data.brand, data.brands);
    markFailures(data.errors || {});
    fitLists();
    return "ready";
  }

  function refresh() {
    clearTimeout(timer);
    var query = new URLSearchParams({ hours: String(hours) });
    if (brand) query.set("brand", brand);
    return fetch("wall/data?" + query.toString(), { cache: "no-store" })
      .then(function (response) {
        return response.json().then(function (body) {
          if (!response.ok) throw new Error(body.error || response.statusText);
          return body;
        });
      })
      .then(function (data) {
        var state = render(data);
        lastData = data;
        lastUpdated = data.generated_at;
        document.body.dataset.updated = lastUpdated;
        document.body.dataset.state = state;
        var broken = Object.keys(data.errors || {});
        setStatus("updated " + clockSeconds(lastUpdated) + (broken.length ? " · " + broken.length + " panel(s) failed" : ""));
      })
      .catch(function (err) {
        document.body.dataset.state = lastUpdated ? "stale" : "error";
        setStatus(lastUpdated
          ? "⚠ no connection · data from " + clockSeconds(lastUpdated)
          : "⚠ cannot load data: " + err.message);
      })
      .then(function () { timer = setTimeout(refresh, REFRESH_MS); });
  }

  function remember() {
    var query = new URLSearchParams(window.location.search);
    query.set("hours", String(hours));
    if (brand) query.set("brand", brand); else query.delete("brand");
    window.history.replaceState(null, "", "?" + query.toString());
  }

  $("brand").addEventListener("change", function (event) {
    brand = event.target.value;
    remember();
    refresh();
  });
  document.querySelectorAll("#ranges button").forEach(function (button) {
    button.addEventListener("click", function () {
      hours = Number(button.dataset.hours);
      remember();
      renderRanges();
      refresh();
    });
  });
  window.addEventListener("resize", function () {
    // A screen's browser often goes full screen after loading: lists refill to the new height, charts resize.
    if (lastData && lastData.brand) {
      renderLists(lastData);
      fitLists();
    }
    Object.keys(charts).forEach(function (id) {
      var box = $(id);
      charts[id].setSize({ width: Math.max(box.clientWidth, 100), height: Math.max(box.clientHeight, 80) });
    });
  });

  renderRanges();
  refresh();
})();
