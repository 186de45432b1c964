(function () {
  "use strict";
  var table = document.getElementById("gk-rings");
  if (!table) { return; }
  var body = table.tBodies[0];
  var rows = Array.prototype.slice.call(body.rows);
  var heads = table.tHead.rows[0].cells;
  function key(row, i, numeric) {
    var c = row.cells[i];
    var v = c.getAttribute("data-sort");
    if (v === null) { v = c.textContent; }
    return numeric ? parseFloat(v) || 0 : v;
  }
  Array.prototype.forEach.call(heads, function (th, i) {
    if (!th.classList.contains("sortable")) { return; }
    th.addEventListener("click", function () {
      var numeric = th.getAttribute("data-type") === "num";
      var asc = !th.classList.contains("asc");
      Array.prototype.forEach.call(heads, function (h) { h.classList.remove("asc", "desc"); });
      th.classList.add(asc ? "asc" : "desc");
      rows.sort(function (a, b) {
        var x = key(a, i, numeric), y = key(b, i, numeric);
        var r = x < y ? -1 : x > y ? 1 : 0;
        return asc ? r : -r;
      });
      rows.forEach(function (r) { body.appendChild(r); });
    });
  });
  var text = document.getElementById("gk-filter");
  var typ = document.getElementById("gk-typology");
  var status = document.getElementById("gk-status");
  var minScore = document.getElementById("gk-min-score");
  var shown = document.getElementById("gk-shown");
  function apply() {
    var q = (text.value || "").trim().toLowerCase();
    var t = typ.value;
    var st = status ? status.value : "";
    var m = parseFloat(minScore.value) || 0;
    var n = 0;
    rows.forEach(function (r) {
      var ok = (!t || r.getAttribute("data-typology") === t) &&
               (!st || (st === "repeat" ? r.getAttribute("data-repeat") === "1"
                                        : r.getAttribute("data-status") === st)) &&
               (parseFloat(r.getAttribute("data-score")) >= m) &&
               (!q || r.textContent.toLowerCase().indexOf(q) >= 0);
      r.style.display = ok ? "" : "none";
      if (ok) { n++; }
    });
    shown.textContent = String(n);
  }
  [text, typ, status, minScore].forEach(function (e) {
    if (e) { e.addEventListener("input", apply); }
  });
  apply();
})();
