// Show only the fields of the chosen treatment pathway. The server renders the same
// state and ignores the other pathway's fields, so without this script the form still
// works (the choice shows after saving or on a validation error).
(function () {
  "use strict";
  function show(select) {
    document.querySelectorAll("fieldset[data-pathway]").forEach(function (set) {
      set.hidden = set.dataset.pathway !== select.value;
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    var select = document.getElementById("id_pathway");
    if (!select) return;
    select.addEventListener("change", function () { show(select); });
    show(select);
  });
})();
