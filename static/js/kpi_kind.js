/* KPI rows of the initiative form: the value-per-unit label follows the KPI's kind (per unit, per unit per outcome,
   per point, none for a stated KPI). The labels come from the kind select's data-value-labels. No dependencies. */
(function () {
  "use strict";

  function relabel(select) {
    var labels = JSON.parse(select.dataset.valueLabels || "{}");
    var row = select.closest(".formset-row");
    var input = row ? row.querySelector("[name$='-value_per_unit']") : null;
    var label = input ? row.querySelector("label[for='" + input.id + "']") : null;
    if (label && labels[select.value]) { label.textContent = labels[select.value] + ":"; }
  }

  function attach(root) {
    root.querySelectorAll("select[data-value-labels]").forEach(function (select) {
      relabel(select);
      select.addEventListener("change", function () { relabel(select); });
    });
  }

  window.addEventListener("DOMContentLoaded", function () { attach(document); });
  // A KPI row added by static/js/initiative_form.js.
  document.addEventListener("formset:added", function (event) { attach(event.target); });
})();
