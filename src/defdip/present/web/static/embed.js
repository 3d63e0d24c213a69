/* Draw every chart of a dashboard page with vega-embed (served by this app, never a CDN).
   Each <div data-chart="NAME"> has its Vega-Lite spec in <script type="application/json" id="spec-NAME">.
   When all are drawn, <body> gets data-charts-rendered="N" and data-charts-failed="M" (the browser test waits). */
(function () {
  var nodes = Array.prototype.slice.call(document.querySelectorAll("[data-chart]"));
  var done = 0, failed = 0;
  function finish() {
    if (done + failed === nodes.length) {
      document.body.setAttribute("data-charts-rendered", String(done));
      document.body.setAttribute("data-charts-failed", String(failed));
    }
  }
  function fail(el, err) {
    el.setAttribute("data-error", String(err));
    var p = document.createElement("p");
    p.className = "chart-error";
    p.textContent = "This chart could not be drawn: " + String(err);
    el.innerHTML = "";
    el.appendChild(p);
    failed += 1; finish();
  }
  if (typeof vegaEmbed !== "function") {
    nodes.forEach(function (el) { fail(el, "the Vega runtime did not load"); });
    finish(); return;
  }
  var options = { actions: false, renderer: "svg", loader: { target: "_self" }, tooltip: { theme: "light" } };
  nodes.forEach(function (el) {
    var spec;
    try { spec = JSON.parse(document.getElementById("spec-" + el.dataset.chart).textContent); }
    catch (e) { fail(el, e); return; }
    vegaEmbed(el, spec, options).then(function () {
      el.setAttribute("data-rendered", "true"); done += 1; finish();
    }).catch(function (err) { fail(el, err); });
  });
  finish();
})();
