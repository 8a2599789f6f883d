// Patient questionnaire: clearing a choice in place, and a visible message when autosave fails.
// Without JavaScript both still work: "Clear this answer" posts the form, and
// "Save and continue" saves the page.
(function () {
  "use strict";

  function form() {
    return document.querySelector("form.questionnaire");
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("button[data-clears]");
    if (!button || !form()) {
      return;
    }
    event.preventDefault();
    var name = button.getAttribute("data-clears");
    form().querySelectorAll("input[type=radio]").forEach(function (input) {
      if (input.name === name) {
        input.checked = false;
      }
    });
    // The form autosaves on "change" (htmx); an unticked question is saved as blank.
    form().dispatchEvent(new Event("change", { bubbles: true }));
    var legend = button.closest("fieldset");
    if (legend) {
      var first = legend.querySelector("input");
      if (first) {
        first.focus();
      }
    }
  });

  function saveFailed() {
    var status = document.getElementById("save-status");
    if (status) {
      status.textContent = status.getAttribute("data-failed");
      status.classList.add("bad");
    }
  }

  document.addEventListener("htmx:responseError", saveFailed);
  document.addEventListener("htmx:sendError", saveFailed);
  document.addEventListener("htmx:afterSwap", function (event) {
    if (event.detail.target && event.detail.target.id === "save-status") {
      event.detail.target.classList.remove("bad");
    }
  });
})();
