// Small enhancements of the task inbox and the dispatch screen; both work
// without them.
(function () {
  "use strict";

  // The inbox hears about task changes (Server-Sent Events) and offers to
  // refresh; it never reloads under a person's hands.
  var note = document.getElementById("live-note");
  if (note && window.EventSource) {
    var topics = [];
    try { topics = JSON.parse(note.getAttribute("data-topics") || "[]"); } catch (e) { topics = []; }
    var q = topics.map(function (t) { return "topic=" + encodeURIComponent(t); }).join("&");
    var es = new EventSource("/events" + (q ? "?" + q : ""));
    var show = function () { note.hidden = false; };
    ["task.created", "task.updated", "task.completed", "task.reminder", "task.reply", "instance.ended"].forEach(function (type) {
      es.addEventListener(type, show);
    });
    window.addEventListener("pagehide", function () { es.close(); });
  }

  // Dispatch: one box ticks every row.
  var all = document.getElementById("pick-all");
  if (all) {
    var boxes = document.querySelectorAll('input[name="task_ids"]');
    all.hidden = false;
    all.closest("label").hidden = false;
    all.addEventListener("change", function () {
      Array.prototype.forEach.call(boxes, function (b) { b.checked = all.checked; });
    });
  }
})();
