/* The campaign page's daily spend (bars) and leads (line) chart, drawn by vendored Chart.js. */
(function () {
  "use strict";
  const canvas = document.getElementById("campaign-chart");
  const data = document.getElementById("campaign-chart-data");
  if (!canvas || !data || !window.Chart) return;
  const series = JSON.parse(data.textContent);
  new window.Chart(canvas, {
    data: {
      labels: series.labels,
      datasets: [
        {type: "bar", label: "Spend", data: series.spend, yAxisID: "spend", backgroundColor: "rgba(37, 99, 235, 0.45)"},
        {type: "line", label: "Leads", data: series.leads, yAxisID: "leads", borderColor: "#15803d",
         backgroundColor: "#15803d", tension: 0.25, pointRadius: 2},
      ],
    },
    options: {
      responsive: true,
      interaction: {mode: "index", intersect: false},
      scales: {
        spend: {type: "linear", position: "left", beginAtZero: true, title: {display: true, text: "Spend"}},
        leads: {type: "linear", position: "right", beginAtZero: true, grid: {drawOnChartArea: false},
                ticks: {precision: 0}, title: {display: true, text: "Leads"}},
      },
    },
  });
})();
