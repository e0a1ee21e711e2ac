/* StakTrakr operator dashboard: builds every panel from GET /api/dashboard and fetches it again
   every 60 s without reloading the page. Text goes in through textContent only (never HTML).
   Charts: uPlot (vendored, MIT). */
"use strict";

(function () {
  const REFRESH_MS = 60000;
  const POLLER_COLORS = ["#2f6fde", "#d9822b", "#7a4fd6", "#2a9d8f"];
  const charts = {};
  let latest = null;
  let chosenCoin = null;
  let pollerOrder = [];

  function el(tag, attrs, children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined) continue;
      if (key === "text") node.textContent = String(value);
      else if (key === "class") node.className = value;
      else node.setAttribute(key, String(value));
    }
    for (const child of children || []) if (child) node.appendChild(child);
    return node;
  }
  function fill(id, ...children) {
    const target = document.getElementById(id);
    target.replaceChildren(...children.filter(Boolean));
    return target;
  }
  function age(seconds) {
    if (seconds === null || seconds === undefined) return "never";
    if (seconds < 90) return Math.round(seconds) + " s ago";
    if (seconds < 5400) return Math.round(seconds / 60) + " min ago";
    if (seconds < 172800) return (seconds / 3600).toFixed(1) + " h ago";
    return Math.round(seconds / 86400) + " d ago";
  }
  // a feed: "unknown" (database not read), "never" (no data), else fresh/stale and its age
  function feedText(feed) {
    if (feed.state === "unknown") return "unknown";
    if (feed.state === "never") return "stale, never";
    return (feed.stale ? "stale, " : "fresh, ") + age(feed.age_s);
  }
  const UNKNOWN = "unknown (database not read)";
  function pct(value) { return value === null || value === undefined ? "–" : value.toFixed(1) + " %"; }
  function usd(value) { return value === null || value === undefined ? "–" : "$" + value.toFixed(2); }
  function secs(value) { return value === null || value === undefined ? "–" : value.toFixed(1) + " s"; }
  function shortTime(text) { return text ? text.replace("T", " ").slice(5, 16) : "–"; }
  function statusClass(status) { return status === "ok" ? "ok" : status === "running" ? "warn" : "bad"; }
  function toSeconds(text) { return Date.parse(text.length === 13 ? text + ":00:00Z" : text.length === 10 ? text + "T00:00:00Z" : text) / 1000; }

  function table(headers, rows) {
    const head = el("tr", {}, headers.map((h) => el("th", { text: h.label, class: h.num ? "num" : null })));
    const body = rows.map((cells) => el("tr", {}, cells.map((cell, i) =>
      cell instanceof Node ? el("td", {}, [cell]) :
        el("td", { text: cell === null || cell === undefined ? "–" : cell, class: headers[i].num ? "num" : headers[i].wrap ? "wrap" : null }))));
    return el("div", { class: "table-wrap" }, [el("table", {}, [el("thead", {}, [head]), el("tbody", {}, body)])]);
  }
  function empty(text) { return el("p", { class: "muted", text: text }); }

  function chart(id, series, xs, ys, opts) {
    const target = document.getElementById(id);
    if (charts[id]) { charts[id].destroy(); delete charts[id]; }
    target.replaceChildren();
    if (!xs.length) { target.appendChild(empty(latest && latest.database.error ? UNKNOWN : "no data")); return; }
    const width = Math.max(260, target.clientWidth || 320);
    const options = {
      width: width, height: 180, legend: { show: true }, cursor: { drag: { x: false, y: false } },
      scales: { x: { time: true } }, axes: [{}, { size: 56 }], tzDate: utcDate,
      series: [{}].concat(series), ...opts,
    };
    charts[id] = new uPlot(options, [xs].concat(ys), target);
  }
  function utcDate(seconds) { return uPlot.tzDate(new Date(seconds * 1000), "Etc/UTC"); }
  function bars(color, label) {
    return { label: label, stroke: color, fill: color + "99", width: 1, paths: uPlot.paths.bars({ size: [0.7, 40] }), points: { show: false } };
  }
  function line(color, label) { return { label: label, stroke: color, width: 2, spanGaps: true }; }

  function renderHeader(data) {
    const verdict = document.getElementById("verdict");
    const status = data.database.error ? "database error" : data.freshness.status;
    verdict.textContent = status;
    verdict.className = "badge " + (status === "ok" ? "ok" : status === "stale" ? "warn" : "bad");
    document.getElementById("updated").textContent = "updated " + shortTime(data.generated_at) + " UTC";
    const problem = document.getElementById("load-error");
    problem.hidden = !data.database.error;
    problem.textContent = data.database.error ? "Database: " + data.database.error : "";
  }

  function renderFleet(data) {
    const feeds = data.freshness.feeds;
    fill("freshness", ...Object.keys(feeds).map((name) => el("span", {
      class: "chip " + (feeds[name].state === "ok" ? "ok" : feeds[name].state === "unknown" ? "warn" : "bad"),
      text: name + ": " + feedText(feeds[name]),
    })));
    const health = data.fleet.health;
    fill("fleet-health", health.length ? table(
      [{ label: "Poller endpoint" }, { label: "Poller" }, { label: "HTTP", num: true }, { label: "Verdict" }, { label: "Latency", num: true }, { label: "Checked" }],
      health.map((h) => [h.url, h.poller, h.status_code, el("span", { class: h.verdict === "ok" ? "ok" : "bad", text: h.verdict || h.error || "–" }),
        h.latency_ms === null ? "–" : h.latency_ms.toFixed(0) + " ms", shortTime(h.checked_at)])) : null);
    if (data.fleet.unknown) { fill("pollers", empty(UNKNOWN)); fill("stuck"); return; }
    const pollers = data.fleet.pollers;
    pollerOrder = Object.keys(pollers);
    fill("pollers", ...pollerOrder.map((poller) => {
      const jobs = pollers[poller].jobs;
      const rows = Object.keys(jobs).map((job) => {
        const last = jobs[job].runs[0] || {};
        const stats = jobs[job].stats_24h || {};
        return [job, el("span", { class: statusClass(last.status), text: last.status || "–" }), shortTime(last.started_at),
          secs(last.duration_s), last.total === undefined || last.total === null ? "–" : (last.captured || 0) + "/" + last.total,
          stats.runs === undefined ? "–" : String(stats.runs), pct(stats.success_percent), pct(stats.capture_percent), secs(stats.avg_duration_s)];
      });
      const strip = el("div", { class: "muted" }, [document.createTextNode("last runs: " + Object.keys(jobs).map((job) =>
        job + " " + jobs[job].runs.map((run) => (run.status === "ok" ? "✓" : run.status === "running" ? "…" : "✗")).join("")).join(" · "))]);
      return el("div", { class: "poller", "data-poller": poller }, [el("h3", { text: poller }), table(
        [{ label: "Job" }, { label: "Last" }, { label: "Started" }, { label: "Took", num: true }, { label: "Captured", num: true },
          { label: "24 h runs", num: true }, { label: "OK", num: true }, { label: "Capture", num: true }, { label: "Avg", num: true }], rows), strip]);
    }));
    if (!pollerOrder.length) fill("pollers", empty("no runs in 7 days"));
    const stuck = data.fleet.stuck_runs.concat(data.fleet.orphaned_runs);
    fill("stuck", stuck.length ? el("h3", { text: "Stuck or orphaned runs" }) : null, stuck.length ? table(
      [{ label: "Poller" }, { label: "Job" }, { label: "Started" }, { label: "Status" }, { label: "Note", wrap: true }],
      stuck.map((r) => [r.poller_id, r.job, shortTime(r.started_at), r.status, r.error || (r.running_s ? "running for " + age(r.running_s).replace(" ago", "") : "")])) : null);
  }

  function figure(label, value, cls) {
    return el("div", { class: "figure" }, [el("b", { text: value, class: cls || null }), el("span", { class: "muted", text: label })]);
  }
  function renderCoverage(data) {
    const cov = data.coverage;
    const retail = cov.retail;
    const latestHour = retail.latest_hour || {};
    if (retail.unknown) {
      fill("coverage-figures", figure("retail this hour", "unknown", "warn"), figure("retail 24 h average", "unknown", "warn"),
        figure("Goldback rate", feedText(cov.goldback), cov.goldback.state === "ok" ? "ok" : "warn"),
        figure("last publish", feedText(cov.publish), cov.publish.state === "ok" ? "ok" : "warn"),
        figure("last merge", "unknown", "warn"),
        figure("outbox (" + cov.outbox.rows + " rows)", cov.outbox.entries + " waiting", cov.outbox.entries || cov.outbox.quarantined || cov.outbox.rejected ? "warn" : "ok"));
      chart("coverage-chart", [], [], [], {});
      fill("spot-grid", empty(UNKNOWN));
      return;
    }
    fill("coverage-figures",
      figure("retail this hour (" + (latestHour.covered ?? "–") + "/" + (latestHour.enabled ?? retail.enabled) + ")", pct(latestHour.percent)),
      figure("retail 24 h average", pct(retail.avg_24h_percent)),
      figure("Goldback rate of " + (cov.goldback.newest || "–"), cov.goldback.stale ? "stale" : "fresh", cov.goldback.stale ? "bad" : "ok"),
      figure("last publish", age(cov.publish.age_s), cov.publish.stale ? "bad" : "ok"),
      figure("last merge", age(cov.merge.age_s)),
      figure("outbox (" + cov.outbox.rows + " rows)", cov.outbox.entries + " waiting", cov.outbox.entries || cov.outbox.quarantined || cov.outbox.rejected ? "warn" : "ok"));
    const hours = retail.hourly.map((b) => toSeconds(b.hour));
    chart("coverage-chart", [bars("#2f6fde", "priced %")], hours, [retail.hourly.map((b) => b.percent)],
      { scales: { x: { time: true, range: (u, min, max) => [min - 1800, max + 1800] }, y: { range: [0, 100] } } });
    const spot = cov.spot;
    const legend = el("div", { class: "legend" }, pollerOrder.map((p, i) => el("span", {}, [el("span", { class: "swatch p" + (i % 4) }), document.createTextNode(p)]))
      .concat([el("span", {}, [el("span", { class: "swatch" }), document.createTextNode("missing")])]));
    fill("spot-grid", ...Object.keys(spot.metals).map((metal) => {
      const m = spot.metals[metal];
      const cells = m.slots.map((poller, i) => {
        let index = poller === null ? -1 : pollerOrder.indexOf(poller);
        if (poller !== null && index < 0) { pollerOrder.push(poller); index = pollerOrder.length - 1; }
        return el("span", { class: "cell" + (index >= 0 ? " p" + (index % 4) : ""), title: spot.slots[i] + " " + (poller || "missing") });
      });
      return el("div", { class: "spot-row", "data-metal": metal }, [el("span", { class: "label", text: metal + " " + pct(m.percent) }), el("span", { class: "cells" }, cells)]);
    }), legend);
  }

  function renderFailures(data) {
    const failures = data.failures;
    if (failures.unknown) {
      chart("failures-chart", [], [], [], {});
      fill("chronic", empty(UNKNOWN));
      fill("missing", empty(UNKNOWN));
      return;
    }
    chart("failures-chart", [bars("#b3261e", "failures")], failures.per_day.map((d) => toSeconds(d.day)),
      [failures.per_day.map((d) => d.failures)], { scales: { x: { time: true, range: (u, min, max) => [min - 43200, max + 43200] } } });
    fill("chronic", failures.chronic.length ? table(
      [{ label: "Coin" }, { label: "Vendor" }, { label: "7 d", num: true }, { label: "Last" }, { label: "Last error", wrap: true }, { label: "URL", wrap: true }],
      failures.chronic.map((c) => [c.coin_slug, c.vendor_id, c.failures, shortTime(c.last_failed_at), c.last_error, c.last_url])) : empty("none"));
    fill("missing", failures.missing_this_hour.length ? el("p", { text: failures.missing_this_hour.join(", ") }) : empty("none"));
  }

  function renderPrices(data) {
    if (data.prices.unknown) {
      document.getElementById("coin").replaceChildren();
      chart("daily-chart", [], [], [], {});
      chart("windows-chart", [], [], [], {});
      fill("vendors", empty(UNKNOWN));
      return;
    }
    const coins = data.prices.coins;
    const slugs = Object.keys(coins);
    const select = document.getElementById("coin");
    if (!chosenCoin || !coins[chosenCoin]) {
      chosenCoin = slugs.find((slug) => coins[slug].daily.length) || slugs[0] || null;
    }
    select.replaceChildren(...slugs.map((slug) => el("option", { value: slug, text: coins[slug].name + " (" + slug + ")" })));
    if (chosenCoin) select.value = chosenCoin;
    const coin = chosenCoin ? coins[chosenCoin] : null;
    if (!coin) { fill("vendors", empty("no coins")); return; }
    chart("daily-chart", [line("#2f6fde", "median"), line("#1e7f4f", "low")], coin.daily.map((d) => toSeconds(d.day)),
      [coin.daily.map((d) => d.median), coin.daily.map((d) => d.low)], {});
    chart("windows-chart", [line("#2f6fde", "median"), line("#1e7f4f", "low")], coin.windows.map((w) => toSeconds(w.window_start)),
      [coin.windows.map((w) => w.median), coin.windows.map((w) => w.low)], {});
    fill("vendors", table(
      [{ label: "Vendor" }, { label: "Price", num: true }, { label: "Stock" }, { label: "Source" }, { label: "Conf.", num: true }, { label: "Age" }, { label: "Poller" }],
      coin.vendor_table.map((v) => [v.name, usd(v.price), v.in_stock === null ? "–" : v.in_stock ? "in stock" : "out of stock",
        v.source, v.confidence, v.age_s === null ? "no price in 24 h" : age(v.age_s), v.poller])));
  }

  function render(data) {
    latest = data;
    renderHeader(data);
    renderFleet(data);
    renderCoverage(data);
    renderFailures(data);
    renderPrices(data);
    document.body.dataset.generatedAt = data.generated_at;
  }

  async function refresh() {
    const problem = document.getElementById("load-error");
    try {
      const response = await fetch("/api/dashboard", { credentials: "same-origin", cache: "no-store" });
      if (response.status === 401 || response.status === 403) { window.location.assign("/dashboard/login"); return; }
      if (!response.ok) throw new Error("HTTP " + response.status);
      render(await response.json());
    } catch (error) {
      problem.hidden = false;
      problem.textContent = "Could not refresh: " + error.message + " (showing the last data)";
    }
  }

  document.getElementById("coin").addEventListener("change", (event) => {
    chosenCoin = event.target.value;
    if (latest) renderPrices(latest);
  });
  let resizeTimer = null;
  window.addEventListener("resize", () => {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(() => { if (latest) render(latest); }, 250);
  });
  refresh();
  setInterval(refresh, REFRESH_MS);
})();
