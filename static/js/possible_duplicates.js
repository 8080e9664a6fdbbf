/* Possible duplicates panels: fetch an HTML fragment from the panel's data-duplicates-url.
   With data-form, the fragment follows the form's name, purpose, category, department, owner, vendors and models
   as the owner types (debounced, stale requests aborted); without it, it loads once. While a request runs the panel says
   "Searching…" (and is aria-busy). No dependencies, no CDN; when the page has jQuery (the searchable selects), their
   changes, which jQuery triggers without a native event, are followed too. */
(function () {
  "use strict";
  var FIELDS = ["name", "description", "category", "department", "owner", "vendors", "ai_models"];
  var DELAY_MS = 400;

  function query(form, exclude) {
    var params = new URLSearchParams();
    FIELDS.forEach(function (name) {
      var field = form.elements.namedItem(name);
      if (!field) { return; }
      if (field.tagName === "SELECT" && field.multiple) {
        Array.prototype.forEach.call(field.selectedOptions, function (option) { params.append(name, option.value); });
      } else if (field.value) {
        params.append(name, field.value);
      }
    });
    if (exclude) { params.append("exclude", exclude); }
    return params.toString();
  }

  function attach(panel) {
    var url = panel.dataset.duplicatesUrl;
    var form = panel.dataset.form ? document.getElementById(panel.dataset.form) : null;
    var controller = null;
    var timer = null;
    var last = null;

    function searching() {
      var status = panel.querySelector(".duplicates-searching");
      if (!status) {
        status = document.createElement("p");
        status.className = "duplicates-searching muted";
        status.setAttribute("role", "status");
        panel.insertBefore(status, panel.firstChild);
      }
      status.textContent = "Searching…";
    }

    function load() {
      var qs = form ? query(form, panel.dataset.exclude) : "";
      if (qs === last) { return; }
      last = qs;
      if (controller) { controller.abort(); }
      controller = new AbortController();
      panel.setAttribute("aria-busy", "true");
      searching();
      fetch(url + (qs ? "?" + qs : ""), {credentials: "same-origin", signal: controller.signal,
                                         headers: {"X-Requested-With": "fetch"}})
        .then(function (response) {
          if (!response.ok) { throw new Error("HTTP " + response.status); }
          return response.text();
        })
        .then(function (html) { panel.innerHTML = html; panel.removeAttribute("aria-busy"); })
        .catch(function (error) {
          if (error.name === "AbortError") { return; }
          panel.removeAttribute("aria-busy");
          panel.innerHTML = '<p class="muted">Possible duplicates are not available right now.</p>';
        });
    }

    if (!form) { load(); return; }
    function later() { clearTimeout(timer); timer = setTimeout(load, DELAY_MS); }
    form.addEventListener("input", later);
    form.addEventListener("change", later);
    if (window.jQuery) { window.jQuery(form).on("change", "select", later); }
    load();
  }

  function start() {
    document.querySelectorAll(".duplicates-panel[data-duplicates-url]").forEach(function (panel) {
      if (panel.dataset.attached) { return; }
      panel.dataset.attached = "1";
      attach(panel);
    });
  }

  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); } else { start(); }
})();
