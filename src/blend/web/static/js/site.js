// Every page: a <select data-autosubmit> submits its form when changed (the language and
// trial switchers). A script file, not an onchange="" attribute: the Content-Security-Policy
// allows no inline script (blend.web.csp). Without JavaScript the <noscript> button submits.
(function () {
  "use strict";
  document.addEventListener("change", function (event) {
    var select = event.target;
    if (select instanceof HTMLSelectElement && select.hasAttribute("data-autosubmit") && select.form) {
      select.form.submit();
    }
  });
})();
