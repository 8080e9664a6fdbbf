// Draws every Plotly chart of a page: an element with data-figure="<id>" gets the figure held in the JSON script
// element of that id (json_script). One file instead of a script per page, so the Content-Security-Policy can refuse
// every inline script.
document.addEventListener("DOMContentLoaded", function () {
  if (!window.Plotly) { return; }
  document.querySelectorAll("[data-figure]").forEach(function (target) {
    var data = document.getElementById(target.getAttribute("data-figure"));
    if (!data) { return; }
    var figure = JSON.parse(data.textContent);
    if (!figure) { return; }
    window.Plotly.newPlot(target, figure.data, figure.layout, {displayModeBar: false, responsive: true});
  });
});
