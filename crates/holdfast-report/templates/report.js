// Filtering, sorting and detail rows for the findings table. Values are read with
// dataset, textContent and JSON.parse only, and detail rows are built with DOM calls:
// nothing from the report is ever parsed as markup.
(function () {
  "use strict";
  var table = document.getElementById("findings-table");
  var count = document.getElementById("f-count");
  if (!table) {
    if (count) { count.textContent = "0 findings"; }
    return;
  }
  var bodies = Array.prototype.slice.call(table.tBodies);

  // The details of every finding, by data-order, parsed when first needed.
  var details = null;
  function detailOf(b) {
    if (details === null) {
      var node = document.getElementById("finding-details");
      try { details = JSON.parse(node ? node.textContent : "[]"); } catch (e) { details = []; }
    }
    return details[Number(b.dataset.order)] || {};
  }
  function detailText(d) {
    return [d.description, d.evidence, d.remediation, d.created_by]
      .concat(d.aliases || [], d.links || [], d.other_references || [])
      .filter(Boolean).join(" ");
  }

  // Each finding's text (its row and its detail), read on the first free-text search
  // rather than at load: with 10,000 findings, reading them all up front delays the
  // first paint.
  var texts = null;
  function textOf(b) {
    if (texts === null) {
      texts = new Map();
      bodies.forEach(function (x) {
        var row = x.querySelector("tr.row");
        texts.set(x, (row.textContent + " " + detailText(detailOf(x))).toLowerCase());
      });
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

  function node(tag, className, text) {
    var e = document.createElement(tag);
    if (className) { e.className = className; }
    if (text) { e.textContent = text; }
    return e;
  }
  // A finding's detail row, from its JSON entry.
  function detailRow(d) {
    var tr = node("tr", "detail"), td = node("td"), dl = node("dl", "detail-list");
    td.colSpan = 9;
    td.appendChild(dl);
    tr.appendChild(td);
    function item(label, dd) {
      dl.appendChild(node("dt", "", label));
      dl.appendChild(dd);
    }
    function code(text) { var dd = node("dd"); dd.appendChild(node("code", "", text)); return dd; }
    if (d.title) { item("Title", node("dd", "", d.title)); }
    if (d.description) { item("Description", node("dd", "description", d.description)); }
    if (d.package) {
      item("Package", node("dd", "", d.package + " " + (d.installed || "")));
      item("Fixed version", node("dd", "", d.fixed || "no fix yet"));
    }
    if (d.location) {
      item("Location", node("dd", "path", d.location +
        (d.removed ? " (deleted by a later layer; still in the image)" : "")));
    }
    if (d.evidence) { item("Evidence", code(d.evidence)); }
    if (d.remediation) { item("Remediation", node("dd", "", d.remediation)); }
    if (d.layer) {
      var dd = node("dd"), id = node("span", "id", d.layer_short);
      id.title = d.layer;
      dd.appendChild(id);
      if (d.created_by) {
        dd.appendChild(document.createTextNode(": "));
        dd.appendChild(node("code", "", d.created_by));
      }
      item("Layer", dd);
    }
    if (d.aliases && d.aliases.length) { item("Aliases", node("dd", "", d.aliases.join(", "))); }
    var refs = (d.links || []).concat(d.other_references || []);
    if (refs.length) {
      var list = node("ul");
      refs.forEach(function (r) {
        var li = node("li");
        // Only http(s) references become links; anything else stays text.
        if (/^https?:\/\//i.test(r)) {
          var a = node("a", "", r);
          a.href = r;
          a.rel = "noopener noreferrer";
          a.target = "_blank";
          li.appendChild(a);
        } else {
          li.textContent = r;
        }
        list.appendChild(li);
      });
      var refsDd = node("dd");
      refsDd.appendChild(list);
      item("References", refsDd);
    }
    return tr;
  }

  table.addEventListener("click", function (ev) {
    var button = ev.target.closest("button.toggle");
    if (!button) { return; }
    var body = button.closest("tbody");
    var detail = body.querySelector("tr.detail");
    if (!detail) {
      detail = detailRow(detailOf(body));
      detail.hidden = true;
      body.appendChild(detail);
    }
    detail.hidden = !detail.hidden;
    button.setAttribute("aria-expanded", String(!detail.hidden));
  });

  apply();
}());
