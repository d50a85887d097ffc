// The web app's only script: follows a batch file's progress (matcher.web, /batch/<id>).
// Without JavaScript the page refreshes itself (a <noscript> meta refresh) instead.
(function () {
  "use strict";
  var box = document.getElementById("job");
  if (!box) { return; }
  var status = box.getAttribute("data-status");
  if (status !== "queued" && status !== "running") { return; }
  var url = box.getAttribute("data-status-url");
  var bar = document.getElementById("job-progress");
  var text = document.getElementById("job-status");
  var lastAnnounced = -1;

  function tick() {
    fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { return r.ok ? r.json() : Promise.reject(r.status); })
      .then(function (s) {
        if (s.rows_total) { bar.max = s.rows_total; bar.value = s.rows_done; }
        if (s.status === "done" || s.status === "failed") { window.location.reload(); return; }
        // announce at most every 10% so a screen reader is not flooded
        var pct = s.rows_total ? Math.floor(10 * s.rows_done / s.rows_total) : 0;
        if (pct !== lastAnnounced) {
          lastAnnounced = pct;
          text.textContent = s.status === "queued" ? "Waiting to start…" :
            "Scoring: " + s.rows_done + (s.rows_total ? " of " + s.rows_total : "") + " rows…";
        }
        window.setTimeout(tick, 1000);
      })
      .catch(function () { window.setTimeout(tick, 3000); });
  }
  window.setTimeout(tick, 500);
}());
