// Small progressive enhancements; every page works without them.
document.addEventListener("DOMContentLoaded", function () {
  var meta = document.querySelector('meta[name="csrf-token"]');
  // htmx requests carry the CSRF token as a header.
  document.body.addEventListener("htmx:configRequest", function (e) {
    if (meta && meta.content) e.detail.headers["X-CSRF-Token"] = meta.content;
  });
  // Live updates: one event stream per signed-in page, on the page's
  // <meta name="gj-topic"> topics (default: the caller's own). A
  // "notification" event is re-dispatched on <body> as "gj-notification",
  // and each type a <meta name="gj-live"> names as "gj-live" (detail: type
  // and data), for htmx triggers and page scripts.
  if (meta && meta.content && window.EventSource) {
    var topics = Array.prototype.map.call(document.querySelectorAll('meta[name="gj-topic"]'), function (m) {
      return "topic=" + encodeURIComponent(m.content);
    });
    var stream = new EventSource("/events" + (topics.length ? "?" + topics.join("&") : ""));
    // <html data-live="open"> while the stream is up (styles and tests read it).
    stream.onopen = function () { document.documentElement.setAttribute("data-live", "open"); };
    stream.onerror = function () { document.documentElement.setAttribute("data-live", "retrying"); };
    var relay = function (type, as) {
      stream.addEventListener(type, function (e) {
        var data = {};
        try { data = JSON.parse(e.data); } catch (_) { /* not JSON */ }
        document.body.dispatchEvent(new CustomEvent(as, { detail: { type: type, data: data } }));
      });
    };
    relay("notification", "gj-notification");
    document.querySelectorAll('meta[name="gj-live"]').forEach(function (m) {
      m.content.split(/\s+/).forEach(function (t) { if (t) relay(t, "gj-live"); });
    });
    window.addEventListener("pagehide", function () { stream.close(); });
  }
  // Destructive actions ask once.
  document.body.addEventListener("submit", function (e) {
    var msg = e.target.getAttribute("data-confirm");
    if (msg && !window.confirm(msg)) e.preventDefault();
  });
});
