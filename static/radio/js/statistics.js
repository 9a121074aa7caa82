// The statistics page's charts, drawn by Chart.js (static/vendor/chartjs/,
// loaded before this module as a classic script) from the page's
// json_script block.

const { Chart } = globalThis;

const data = JSON.parse(document.getElementById("statistics-data").textContent);
const style = getComputedStyle(document.documentElement);
const color = (name) => style.getPropertyValue(name).trim();

/** Labels for the buckets, in the station's time zone. */
function timeLabels(times, range, timeZone) {
  const options =
    range === "24h"
      ? { hour: "2-digit", minute: "2-digit", hourCycle: "h23", timeZone }
      : { month: "short", day: "numeric", hour: "2-digit", hourCycle: "h23", timeZone };
  const format = new Intl.DateTimeFormat(undefined, options);
  return times.map((time) => format.format(new Date(time)));
}

// Chart.js's own palette gives way once its defaults are themed.
const CLIENT_COLORS = [
  color("--accent"),
  color("--live"),
  color("--ok"),
  "#f5a524",
  "#2fa4e7",
  "#a35ddf",
  "#8c96a8",
  "#d4627a",
];

Chart.defaults.color = color("--muted");
Chart.defaults.borderColor = color("--border");

new Chart(document.getElementById("listeners-chart"), {
  type: "line",
  data: {
    labels: timeLabels(data.times, data.range, data.timezone),
    datasets: [
      {
        label: "Average listeners",
        data: data.average,
        borderColor: color("--accent"),
        backgroundColor: color("--accent"),
        fill: false,
        pointRadius: 0,
        tension: 0.2,
      },
      {
        label: "Peak listeners",
        data: data.peak,
        borderColor: color("--live"),
        backgroundColor: color("--live"),
        fill: false,
        pointRadius: 0,
        stepped: true,
      },
    ],
  },
  options: {
    maintainAspectRatio: false,
    animation: false,
    interaction: { mode: "index", intersect: false },
    scales: {
      y: { beginAtZero: true, ticks: { precision: 0 } },
      x: { ticks: { maxTicksLimit: 12, autoSkip: true } },
    },
  },
});

const clients = document.getElementById("clients-chart");
if (clients) {
  new Chart(clients, {
    type: "doughnut",
    data: {
      labels: data.clients.map((client) => client.label),
      datasets: [
        {
          data: data.clients.map((client) => client.sessions),
          backgroundColor: data.clients.map((_, i) => CLIENT_COLORS[i % CLIENT_COLORS.length]),
          borderColor: color("--surface"),
        },
      ],
    },
    options: { maintainAspectRatio: false, animation: false },
  });
}
