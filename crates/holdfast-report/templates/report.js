// The findings table: rows built from the page's JSON a page at a time, filtered and
// sorted over that data, detail rows built when opened. Everything from the report is
// read with JSON.parse and written with textContent or DOM properties: nothing from it
// is ever parsed as markup.
(function () {
  "use strict";
  var PAGE = 500;
  var table = document.getElementById("findings-table");
  var count = document.getElementById("f-count");
  if (!table) {
    if (count) { count.textContent = "0 findings"; }
    return;
  }
  var data = [];
  try {
    data = JSON.parse(document.getElementById("finding-data").textContent);
  } catch (e) {
    data = [];
  }
  data.forEach(function (d, i) { d.order = i; });
  function el(id) { return document.getElementById(id); }
  var fSeverity = el("f-severity"), fKind = el("f-kind"), fPackage = el("f-package"),
      fFix = el("f-fix"), fText = el("f-text"), more = el("f-more");

  function node(tag, className, text) {
    var e = document.createElement(tag);
    if (className) { e.className = className; }
    if (text) { e.textContent = text; }
    return e;
  }

  // A finding's text for the free-text search, made on the first search.
  function textOf(d) {
    if (d.text === undefined) {
      d.text = [d.severity, d.kind, d.id, d.package, d.installed, d.fixed, d.location,
        d.target, d.title, d.description, d.evidence, d.remediation, d.created_by]
        .concat(d.aliases || [], d.links || [], d.other_references || [])
        .filter(Boolean).join(" ").toLowerCase();
    }
    return d.text;
  }

  // A finding's row group, made once and kept, so an opened detail stays open.
  function bodyOf(d) {
    if (d.body) { return d.body; }
    var b = node("tbody", "finding");
    b.dataset.order = String(d.order);
    b.dataset.id = d.id;
    b.dataset.severity = d.severity;
    b.dataset.kind = d.kind;
    var tr = node("tr", "row");
    var sev = node("td");
    sev.appendChild(node("span", "sev " + d.sev_class, d.severity));
    tr.appendChild(sev);
    tr.appendChild(node("td", "", d.kind));
    tr.appendChild(node("td", "id", d.id));
    tr.appendChild(node("td", "", d.package));
    tr.appendChild(node("td", "", d.installed));
    tr.appendChild(node("td", "", d.fixed));
    var loc = node("td", "path", d.location);
    if (d.removed) {
      loc.appendChild(document.createTextNode(" "));
      loc.appendChild(node("em", "", "(removed)"));
    }
    tr.appendChild(loc);
    tr.appendChild(node("td", "", d.target));
    var title = node("td");
    var button = node("button", "toggle", d.title || d.id);
    button.type = "button";
    button.setAttribute("aria-expanded", "false");
    title.appendChild(button);
    tr.appendChild(title);
    b.appendChild(tr);
    d.body = b;
    return b;
  }

  // A finding's detail row.
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
    if (d.source) { item("Reported by", node("dd", "", d.source)); }
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

  var sorted = data.slice();
  var limit = PAGE;
  function matches(d) {
    var severity = fSeverity.value, kind = fKind.value, fix = fFix.value;
    var pkg = fPackage.value.trim().toLowerCase();
    var query = fText.value.trim().toLowerCase();
    return (!severity || d.severity === severity) &&
      (!kind || d.kind === kind) &&
      (!fix || d.fix === fix) &&
      (!pkg || (d.package || "").toLowerCase().indexOf(pkg) !== -1) &&
      (!query || textOf(d).indexOf(query) !== -1);
  }
  function render() {
    var shown = sorted.filter(matches);
    while (table.tBodies.length) { table.removeChild(table.tBodies[0]); }
    var frag = document.createDocumentFragment();
    shown.slice(0, limit).forEach(function (d) { frag.appendChild(bodyOf(d)); });
    table.appendChild(frag);
    var text = shown.length + " of " + data.length + " findings";
    if (shown.length > limit) { text += " (first " + limit + " shown)"; }
    count.textContent = text;
    more.hidden = shown.length <= limit;
    more.textContent = "Show " + Math.min(PAGE, shown.length - limit) + " more";
  }
  function apply() {
    limit = PAGE;
    render();
  }

  [fSeverity, fKind, fFix].forEach(function (e) { e.addEventListener("change", apply); });
  [fPackage, fText].forEach(function (e) { e.addEventListener("input", apply); });
  more.addEventListener("click", function () {
    limit += PAGE;
    render();
  });

  var sortKey = null, sortDir = 1;
  table.tHead.addEventListener("click", function (ev) {
    var th = ev.target.closest("th[data-key]");
    if (!th) { return; }
    var key = th.dataset.key, numeric = th.dataset.numeric === "1";
    sortDir = sortKey === key ? -sortDir : (numeric ? -1 : 1);
    sortKey = key;
    sorted.sort(function (a, b) {
      var c = numeric ? (a[key] || 0) - (b[key] || 0)
        : String(a[key] || "").localeCompare(String(b[key] || ""));
      if (c === 0) { return a.order - b.order; }
      return c * sortDir;
    });
    Array.prototype.forEach.call(table.tHead.querySelectorAll("th"), function (h) {
      h.removeAttribute("aria-sort");
    });
    th.setAttribute("aria-sort", sortDir === 1 ? "ascending" : "descending");
    render();
  });

  table.addEventListener("click", function (ev) {
    var button = ev.target.closest("button.toggle");
    if (!button) { return; }
    var body = button.closest("tbody");
    var detail = body.querySelector("tr.detail");
    if (!detail) {
      detail = detailRow(data[Number(body.dataset.order)] || {});
      detail.hidden = true;
      body.appendChild(detail);
    }
    detail.hidden = !detail.hidden;
    button.setAttribute("aria-expanded", String(!detail.hidden));
  });

  apply();
}());
