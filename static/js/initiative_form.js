/* The initiative form, progressively enhanced (the form works without it):
   - the cost-center list follows the department: only the chosen department's cost centers are offered (each option
     carries data-department; the server refuses any other);
   - KPI rows are added from the <template id="kpi-empty-row"> (Django's empty formset form) and removed with a
     button that ticks the row's DELETE box, as Django formsets expect.
   No inline script: everything it needs is in the markup. No dependencies. */
(function () {
  "use strict";

  function costCentersFollowDepartment(form) {
    var department = form.elements.namedItem("department");
    var costCenter = form.elements.namedItem("cost_center");
    if (!department || !costCenter || costCenter.tagName !== "SELECT") { return; }
    var all = Array.prototype.slice.call(costCenter.options);

    function refresh() {
      var chosen = department.value;
      var selected = costCenter.value;
      costCenter.textContent = "";
      all.forEach(function (option) {
        var owner = option.getAttribute("data-department");
        if (!owner || !chosen || owner === chosen) { costCenter.appendChild(option); }
      });
      costCenter.value = Array.prototype.some.call(costCenter.options, function (o) { return o.value === selected; })
        ? selected : "";
    }

    department.addEventListener("change", function () {
      refresh();
      costCenter.dispatchEvent(new Event("change", {bubbles: true}));
    });
    refresh();
  }

  function removable(row) {
    var box = row.querySelector("input[type=checkbox][name$='-DELETE']");
    if (!box || row.querySelector(".remove-row")) { return; }
    var field = box.closest(".field");
    var button = document.createElement("button");
    button.type = "button";
    button.className = "remove-row link";
    button.textContent = "Remove";
    button.setAttribute("aria-label", "Remove this KPI");
    button.addEventListener("click", function () {
      box.checked = true;
      row.hidden = true;
      row.classList.add("removed");
      var add = document.getElementById("add-kpi");
      if (add) { add.focus(); }
    });
    if (field) { field.hidden = true; field.parentNode.insertBefore(button, field.nextSibling); }
    if (box.checked) { row.hidden = true; }
  }

  function kpiRows() {
    var rows = document.getElementById("kpi-rows");
    var template = document.getElementById("kpi-empty-row");
    var add = document.getElementById("add-kpi");
    if (!rows || !template || !add) { return; }
    var total = document.querySelector("input[name='" + rows.dataset.prefix + "-TOTAL_FORMS']");
    if (!total) { return; }
    rows.querySelectorAll(".kpi-row").forEach(removable);
    add.hidden = false;
    add.addEventListener("click", function () {
      var index = parseInt(total.value, 10);
      var holder = document.createElement("div");
      holder.innerHTML = template.innerHTML.replace(/__prefix__/g, String(index));
      var row = holder.firstElementChild;
      rows.appendChild(row);
      total.value = String(index + 1);
      removable(row);
      row.dispatchEvent(new CustomEvent("formset:added", {bubbles: true, detail: {formsetName: rows.dataset.prefix}}));
      var first = row.querySelector("input:not([type=hidden]), select, textarea");
      if (first) { first.focus(); }
    });
  }

  function start() {
    var form = document.getElementById("initiative-form");
    if (!form) { return; }
    costCentersFollowDepartment(form);
    kpiRows();
  }

  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); } else { start(); }
})();
