// Draws every <figure data-chart="ID"> from the JSON in <script id="ID">
// with Apache ECharts (embedded, SVG so that it prints sharp). A null value
// is a count suppressed for privacy: drawn as a gap, named in the note.
(function () {
  "use strict";
  var big = { fontSize: 16 };
  function option(c) {
    var title = { text: c.title, subtext: c.note || "", left: "center", textStyle: { fontSize: 18 } };
    if (c.kind === "funnel") {
      return {
        title: title, tooltip: { trigger: "item" },
        series: [{ type: "funnel", top: 60, bottom: 10, sort: "none", minSize: "10%", label: { show: true, position: "inside", fontSize: 15, formatter: function (p) { return p.name + " " + (p.value == null ? "—" : p.value); } },
          data: c.labels.map(function (l, i) { return { name: l, value: c.series[0].values[i] }; }) }]
      };
    }
    return {
      title: title, tooltip: { trigger: "axis" }, legend: { bottom: 0, textStyle: big },
      grid: { top: 70, bottom: 50, left: 30, right: 30, containLabel: true },
      xAxis: { type: "category", data: c.labels, axisLabel: { fontSize: 14, interval: 0, rotate: c.labels.length > 4 ? 30 : 0, formatter: function (v) { return v.length > 9 ? v.slice(0, 8) + "…" : v; } } },
      yAxis: { type: "value", minInterval: 1, axisLabel: big },
      series: c.series.map(function (s) { return { name: s.name, type: c.kind, data: s.values, connectNulls: false, label: { show: c.labels.length <= 16, position: "top", fontSize: 13 } }; })
    };
  }
  document.querySelectorAll("figure[data-chart]").forEach(function (fig) {
    var src = document.getElementById(fig.getAttribute("data-chart"));
    if (!src || typeof echarts === "undefined") { return; }
    var c = JSON.parse(src.textContent);
    var chart = echarts.init(fig, null, { renderer: "svg" });
    chart.setOption(option(c));
    if (c.links) {
      chart.on("click", function (p) { var to = c.links[p.dataIndex]; if (to) { window.location.href = to; } });
    }
    fig.setAttribute("data-rendered", "true");
    window.addEventListener("resize", function () { chart.resize(); });
    window.addEventListener("beforeprint", function () { chart.resize(); });
  });
})();
