/* Render every chart of the report with the inlined vega-embed; no network is used.
   Each chart container (data-chart attribute NAME) has its Vega-Lite spec in the JSON script element
   with the id spec-NAME.
   When all charts are drawn, <body> gets data-charts-rendered="N" (the browser test waits for it). */
(function () {
  var nodes = Array.prototype.slice.call(document.querySelectorAll("[data-chart]"));
  var done = 0, failed = 0;
  window.defdipViews = {};
  function finish() {
    if (done + failed === nodes.length) {
      document.body.setAttribute("data-charts-rendered", String(done));
      document.body.setAttribute("data-charts-failed", String(failed));
    }
  }
  if (typeof vegaEmbed !== "function") {
    nodes.forEach(function (el) {
      el.innerHTML = '<img alt="' + el.dataset.chart + '" src="charts/' + el.dataset.chart + '.svg">';
    });
    failed = nodes.length; finish(); return;
  }
  var options = { actions: false, renderer: "svg", loader: { target: "_self" }, tooltip: { theme: "light" } };
  nodes.forEach(function (el) {
    var name = el.dataset.chart;
    var spec;
    try { spec = JSON.parse(document.getElementById("spec-" + name).textContent); }
    catch (e) { el.setAttribute("data-error", String(e)); failed += 1; finish(); return; }
    vegaEmbed(el, spec, options).then(function (result) {
      window.defdipViews[name] = result.view;
      el.setAttribute("data-rendered", "true"); done += 1; finish();
    }).catch(function (err) {
      el.setAttribute("data-error", String(err));
      el.innerHTML = '<p class="chart-error">This chart could not be drawn here (' + String(err) +
        '); its picture: </p><img alt="' + name + '" src="charts/' + name + '.svg">';
      failed += 1; finish();
    });
  });
  finish();
})();
