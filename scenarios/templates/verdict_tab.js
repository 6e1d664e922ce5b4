// The Verdict tab's headline: the overall verdict in the HTML report's colours, a link to the
// last built report and, while the capacity shape runs, the search's progress, above the tab's
// table, whose level cells take the same colours. Locust's
// extended tables show plain text only, so the web UI adds this script to its page.
(() => {
  const config = window.templateArgs.kit_verdict;
  const BANNER_ID = "kit-verdict-banner";
  let latest = null;

  function verdictTable() {
    const heads = Array.from(document.querySelectorAll("th"));
    const marker = heads.find((th) => th.textContent === config.marker);
    return marker ? marker.closest("table") : null;
  }

  function paint(element, text) {
    const colour = config.colours[text.trim().toLowerCase()];
    element.style.background = colour || "";
    element.style.color = colour ? "#fff" : "";
    element.style.fontWeight = colour ? "700" : "";
  }

  function banner(verdict) {
    const line = document.createElement("div");
    line.id = BANNER_ID;
    line.style.cssText = "display:flex;gap:12px;align-items:center;margin:12px 0;font-size:18px";
    const badge = document.createElement("span");
    badge.textContent = verdict.overall || "no requests yet";
    badge.style.cssText = "padding:2px 12px;border-radius:4px";
    paint(badge, badge.textContent);
    line.append("Verdict:", badge);
    if (verdict.report) {
      const link = document.createElement("a");
      link.href = verdict.report;
      link.target = "_blank";
      link.rel = "noopener";
      link.textContent = "report of the last test";
      line.append(link);
    } else {
      line.append("(each test's report is built when it stops)");
    }
    if (verdict.capacity) {
      const search = document.createElement("span");
      search.id = "kit-capacity-progress";
      search.textContent = verdict.capacity;
      search.style.cssText = "font-size:14px;color:#546e7a";
      line.append(search);
    }
    return line;
  }

  function render() {
    const table = verdictTable();
    let line = document.getElementById(BANNER_ID);
    if (table) table.querySelectorAll("td").forEach((cell) => paint(cell, cell.textContent));
    if (!table || !latest) {
      if (line) line.remove();
      return;
    }
    const shows = JSON.stringify([latest.overall, latest.report, latest.capacity]);
    if (!line || line.dataset.shows !== shows) {
      const fresh = banner(latest);
      fresh.dataset.shows = shows;
      if (line) line.replaceWith(fresh);
      line = fresh;
    }
    const anchor = table.closest(".MuiTableContainer-root") || table;
    if (line.nextElementSibling !== anchor) anchor.before(line);
  }

  async function refresh() {
    if (verdictTable()) {
      try {
        const answer = await fetch(config.url);
        if (answer.ok) latest = await answer.json();
      } catch {
        latest = null;
      }
    }
    render();
  }

  setInterval(refresh, 2000);
  setInterval(render, 500);
})();
