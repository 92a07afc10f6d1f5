// onwatch pages: progressive enhancement, hand-written for onwatch (Apache-2.0, as the
// project). The pages work without it. With it:
// - every element with data-poll="URL" has its content replaced by GET URL every 5 s while
//   the tab is visible (the open incidents on /, the timeline of an incident);
// - the status update form (data-preview="URL") shows the rendered update as it is typed.
(function () {
  "use strict";
  var PERIOD_MS = 5000;

  function refresh(element) {
    if (document.hidden) { return; }
    fetch(element.getAttribute("data-poll"), { credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) { if (html !== null && html !== element.innerHTML) { element.innerHTML = html; } })
      .catch(function () { /* offline for a moment: try again next round */ });
  }

  function preview(form) {
    var target = form.querySelector("#preview");
    var timer = null;
    function render() {
      var query = new URLSearchParams();
      ["status", "impact", "current_action", "eta"].forEach(function (name) {
        query.set(name, form.elements[name].value);
      });
      fetch(form.getAttribute("data-preview") + "?" + query.toString(), { credentials: "same-origin" })
        .then(function (response) { return response.ok ? response.text() : null; })
        .then(function (html) { if (html !== null) { target.innerHTML = html; } })
        .catch(function () {});
    }
    form.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(render, 250);
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-poll]").forEach(function (element) {
      setInterval(function () { refresh(element); }, PERIOD_MS);
    });
    document.querySelectorAll("form[data-preview]").forEach(preview);
  });
}());
