// Filtering, sorting and detail toggles for the findings table. Values are read with
// dataset and textContent only: nothing from the report is ever parsed as markup.
(function () {
  "use strict";
  var table = document.getElementById("findings-table");
  var count = document.getElementById("f-count");
  if (!table) {
    if (count) { count.textContent = "0 findings"; }
    return;
  }
  var bodies = Array.prototype.slice.call(table.tBodies);
  // Each row's text, read on the first free-text search rather than at load: with
  // 10,000 findings, reading them all up front delays the first paint.
  var texts = null;
  function textOf(b) {
    if (texts === null) {
      texts = new Map();
      bodies.forEach(function (x) { texts.set(x, x.textContent.toLowerCase()); });
    }
    return texts.get(b);
  }
  function el(id) { return document.getElementById(id); }
  var fSeverity = el("f-severity"), fKind = el("f-kind"), fPackage = el("f-package"),
      fFix = el("f-fix"), fText = el("f-text");

  function apply() {
    var severity = fSeverity.value, kind = fKind.value, fix = fFix.value;
    var pkg = fPackage.value.trim().toLowerCase();
    var query = fText.value.trim().toLowerCase();
    var shown = 0;
    bodies.forEach(function (b) {
      var d = b.dataset;
      var ok = (!severity || d.severity === severity) &&
        (!kind || d.kind === kind) &&
        (!fix || d.fix === fix) &&
        (!pkg || d.package.toLowerCase().indexOf(pkg) !== -1) &&
        (!query || textOf(b).indexOf(query) !== -1);
      b.hidden = !ok;
      if (ok) { shown += 1; }
    });
    count.textContent = shown + " of " + bodies.length + " findings";
  }

  [fSeverity, fKind, fFix].forEach(function (e) { e.addEventListener("change", apply); });
  [fPackage, fText].forEach(function (e) { e.addEventListener("input", apply); });

  var sortKey = null, sortDir = 1;
  table.tHead.addEventListener("click", function (ev) {
    var th = ev.target.closest("th[data-key]");
    if (!th) { return; }
    var key = th.dataset.key, numeric = th.dataset.numeric === "1";
    sortDir = sortKey === key ? -sortDir : (numeric ? -1 : 1);
    sortKey = key;
    bodies.sort(function (a, b) {
      var x = a.dataset[key] || "", y = b.dataset[key] || "";
      var c = numeric ? Number(x) - Number(y) : x.localeCompare(y);
      if (c === 0) { return Number(a.dataset.order) - Number(b.dataset.order); }
      return c * sortDir;
    });
    var frag = document.createDocumentFragment();
    bodies.forEach(function (b) { frag.appendChild(b); });
    table.appendChild(frag);
    Array.prototype.forEach.call(table.tHead.querySelectorAll("th"), function (h) {
      h.removeAttribute("aria-sort");
    });
    th.setAttribute("aria-sort", sortDir === 1 ? "ascending" : "descending");
  });

  table.addEventListener("click", function (ev) {
    var button = ev.target.closest("button.toggle");
    if (!button) { return; }
    var detail = button.closest("tbody").querySelector("tr.detail");
    detail.hidden = !detail.hidden;
    button.setAttribute("aria-expanded", String(!detail.hidden));
  });

  apply();
}());
