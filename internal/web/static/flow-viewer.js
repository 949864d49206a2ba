// The process diagram on the version and instance pages: the vendored
// bpmn-js NavigatedViewer, with done, active and overdue elements marked.
// The page says the same in words (legend, task list, timeline); the
// diagram is an aid, not the only place the state shows.
(function () {
  "use strict";
  var el = document.getElementById("diagram");
  if (!el || !window.BpmnJS) return;

  function list(name) {
    try { return JSON.parse(el.getAttribute("data-" + name) || "[]") || []; } catch (e) { return []; }
  }

  function fail() {
    el.classList.add("diagram-failed");
    el.textContent = el.getAttribute("data-msg-error") || "";
  }

  var viewer = new window.BpmnJS({ container: el });
  fetch(el.getAttribute("data-source"), { credentials: "same-origin", headers: { Accept: "application/xml" } })
    .then(function (res) {
      if (!res.ok) throw new Error("source: " + res.status);
      return res.text();
    })
    .then(function (xml) { return viewer.importXML(xml); })
    .then(function () {
      var canvas = viewer.get("canvas");
      var registry = viewer.get("elementRegistry");
      var active = list("active"), overdue = list("overdue");
      function mark(ids, cls) {
        ids.forEach(function (id) { if (registry.get(id)) canvas.addMarker(id, cls); });
      }
      mark(list("done").filter(function (id) { return active.indexOf(id) < 0; }), "gj-done");
      mark(active.filter(function (id) { return overdue.indexOf(id) < 0; }), "gj-active");
      mark(overdue, "gj-overdue");
      canvas.zoom("fit-viewport", "auto");
      el.setAttribute("data-ready", "1");
    })
    .catch(fail);
})();
