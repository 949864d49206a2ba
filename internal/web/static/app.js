// Small progressive enhancements; every page works without them.
document.addEventListener("DOMContentLoaded", function () {
  var meta = document.querySelector('meta[name="csrf-token"]');
  // htmx requests carry the CSRF token as a header.
  document.body.addEventListener("htmx:configRequest", function (e) {
    if (meta && meta.content) e.detail.headers["X-CSRF-Token"] = meta.content;
  });
  // Destructive actions ask once.
  document.body.addEventListener("submit", function (e) {
    var msg = e.target.getAttribute("data-confirm");
    if (msg && !window.confirm(msg)) e.preventDefault();
  });
});
