// The residents' portal: a few enhancements over pages that work without
// them, and on a lobby kiosk the on-screen keypad, the idle sign-out and
// the fence that keeps the screen inside the portal.
(function () {
  "use strict";
  var body = document.body;
  var kiosk = body.getAttribute("data-kiosk") === "1";

  // Photos chosen on a case page upload at once.
  document.querySelectorAll("input[type=file][data-autosubmit]").forEach(function (input) {
    input.addEventListener("change", function () {
      if (input.files && input.files.length) input.form.submit();
    });
  });

  // A form sends once: a second tap on a slow network would report twice.
  document.addEventListener("submit", function (e) {
    var form = e.target;
    if (form.getAttribute("data-sent") === "1") { e.preventDefault(); return; }
    form.setAttribute("data-sent", "1");
    form.querySelectorAll("button[type=submit], button:not([type])").forEach(function (b) { b.setAttribute("aria-busy", "true"); });
  });

  // The keypad types into its field (the kiosk has no keyboard).
  document.addEventListener("click", function (e) {
    var key = e.target.closest ? e.target.closest(".keypad [data-key]") : null;
    if (!key) return;
    var pad = key.closest(".keypad");
    var input = document.getElementById(pad.getAttribute("data-for"));
    if (!input) return;
    var k = key.getAttribute("data-key");
    var max = parseInt(input.getAttribute("maxlength"), 10) || 64;
    if (k === "clear") input.value = "";
    else if (k === "back") input.value = input.value.slice(0, -1);
    else if (input.value.length < max) input.value += k;
    input.dispatchEvent(new Event("input", { bubbles: true }));
  });

  if (!kiosk) return;

  // Nothing leads out of the portal: links elsewhere, new windows and the
  // long-press menu are refused.
  document.addEventListener("click", function (e) {
    var a = e.target.closest ? e.target.closest("a[href]") : null;
    if (!a) return;
    var url = new URL(a.href, location.href);
    var inside = url.origin === location.origin && (url.pathname === "/portal" || url.pathname.indexOf("/portal/") === 0 || url.pathname.indexOf("/api/portal/") === 0);
    if (!inside || a.target) { e.preventDefault(); }
  }, true);
  document.addEventListener("contextmenu", function (e) { e.preventDefault(); });
  window.open = function () { return null; };

  // Idle sign-out: after data-idle seconds with nobody touching the
  // screen, end the session and go back to the start. The last ten
  // seconds are counted down on screen; any touch keeps it going.
  var idle = Math.max(2, Math.min(60, parseInt(body.getAttribute("data-idle"), 10) || 60));
  var signedIn = body.getAttribute("data-signed-in") === "1";
  var start = document.querySelector("[data-kiosk-start]");
  var banner = document.getElementById("kiosk-idle");
  var count = banner ? banner.querySelector("[data-countdown]") : null;
  var deadline = 0, ticker = 0, leaving = false;

  function untouched() {
    // The start screen with nothing typed has nothing to forget.
    if (signedIn || !start) return false;
    var inputs = start.querySelectorAll("input:not([type=hidden])");
    for (var i = 0; i < inputs.length; i++) if (inputs[i].value) return false;
    return true;
  }

  function leave() {
    if (leaving) return;
    leaving = true;
    var back = function () { location.replace("/portal"); };
    if (!signedIn) { back(); return; }
    var csrf = document.querySelector('meta[name="csrf-token"]');
    fetch("/api/portal/v1/auth/logout", {
      method: "POST", credentials: "same-origin",
      headers: { "X-CSRF-Token": csrf ? csrf.content : "", Accept: "application/json" }
    }).then(back, back);
  }

  function tick() {
    var left = Math.ceil((deadline - Date.now()) / 1000);
    if (left <= 0) {
      if (untouched()) { touch(); return; }
      leave();
      return;
    }
    if (banner) {
      var show = left <= Math.min(10, Math.floor(idle / 2));
      banner.hidden = !show;
      if (count) count.textContent = left + "s";
    }
  }

  function touch() {
    if (leaving) return;
    deadline = Date.now() + idle * 1000;
    if (banner) banner.hidden = true;
  }

  ["pointerdown", "touchstart", "keydown", "input", "wheel", "scroll"].forEach(function (ev) {
    document.addEventListener(ev, touch, { capture: true, passive: true });
  });
  touch();
  ticker = window.setInterval(tick, 250);
  body.setAttribute("data-idle-armed", String(ticker ? idle : 0));
})();
