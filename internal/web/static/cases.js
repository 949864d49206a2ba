// Service desk: the resident's signature pad, live banners and the
// highlight of rows that arrived live. Every form works without it, except
// that a signature needs it.
(function () {
  "use strict";

  function csrf() {
    var m = document.querySelector('meta[name="csrf-token"]');
    return m ? m.content : "";
  }

  // ---- Signature pad: draw with a finger, a pen or the mouse; on submit
  // the drawing is uploaded as a PNG (kind=signature) and its blob key
  // goes with the form.
  function pad(box) {
    var canvas = box.querySelector("canvas");
    var hidden = box.querySelector('input[name="signature"]');
    var ctx = canvas.getContext("2d");
    var drawing = false, inked = false, last = null;

    function fit() {
      var r = canvas.getBoundingClientRect();
      if (r.width === 0 || inked) return;
      var s = window.devicePixelRatio || 1;
      if (canvas.width === Math.round(r.width * s) && canvas.height === Math.round(r.height * s)) return;
      canvas.width = Math.round(r.width * s);
      canvas.height = Math.round(r.height * s);
      ctx.setTransform(s, 0, 0, s, 0, 0);
      ctx.lineWidth = 2.4;
      ctx.lineCap = "round";
      ctx.lineJoin = "round";
      ctx.strokeStyle = "#111";
    }
    function at(e) {
      var r = canvas.getBoundingClientRect();
      return { x: e.clientX - r.left, y: e.clientY - r.top };
    }
    canvas.addEventListener("pointerdown", function (e) {
      fit();
      drawing = true;
      try { canvas.setPointerCapture(e.pointerId); } catch (_) { /* a synthetic pointer */ }
      last = at(e);
      ctx.beginPath();
      ctx.moveTo(last.x, last.y);
      ctx.lineTo(last.x + 0.1, last.y + 0.1);
      ctx.stroke();
      inked = true;
      hidden.value = "";
      box.classList.add("inked");
      e.preventDefault();
    });
    canvas.addEventListener("pointermove", function (e) {
      if (!drawing) return;
      var p = at(e);
      ctx.beginPath();
      ctx.moveTo(last.x, last.y);
      ctx.lineTo(p.x, p.y);
      ctx.stroke();
      last = p;
      e.preventDefault();
    });
    ["pointerup", "pointercancel", "pointerleave"].forEach(function (t) {
      canvas.addEventListener(t, function () { drawing = false; });
    });
    box.querySelector("[data-sig-clear]").addEventListener("click", function () {
      ctx.clearRect(0, 0, canvas.width, canvas.height);
      inked = false;
      hidden.value = "";
      box.classList.remove("inked");
      fit();
    });
    var details = box.closest("details");
    if (details) details.addEventListener("toggle", fit);
    window.addEventListener("resize", fit);
    fit();

    var form = box.closest("form");
    form.addEventListener("submit", function (e) {
      if (!inked || hidden.value) return;
      e.preventDefault();
      var err = box.querySelector(".sig-error");
      err.hidden = true;
      var button = form.querySelector('button[type="submit"]');
      if (button) button.disabled = true;
      canvas.toBlob(function (blob) {
        var fd = new FormData();
        fd.append("kind", "signature");
        fd.append("file", blob, "signature.png");
        fetch("/api/v1/cases/" + box.getAttribute("data-case") + "/files", {
          method: "POST", body: fd, credentials: "same-origin",
          headers: { "X-CSRF-Token": csrf(), "Accept": "application/json" }
        }).then(function (r) {
          if (!r.ok) throw new Error("upload " + r.status);
          return r.json();
        }).then(function (f) {
          hidden.value = f.blob_key;
          form.submit();
        }).catch(function () {
          err.hidden = false;
          if (button) button.disabled = false;
        });
      }, "image/png");
    });
  }

  // ---- Live: a case page shows a banner when its case changes; the jobs
  // page when any of the caller's cases does; rows that arrive with a live
  // refresh are highlighted for a moment.
  function live() {
    var body = document.body;
    body.addEventListener("gj-live", function (e) {
      var data = (e.detail && e.detail.data) || {};
      var banner = document.getElementById("case-updated");
      if (banner && String(data.id) === banner.getAttribute("data-case")) banner.hidden = false;
      document.querySelectorAll("[data-live-banner]").forEach(function (b) { b.hidden = false; });
    });
    var before = null;
    body.addEventListener("htmx:beforeSwap", function (e) {
      if (e.detail.target && e.detail.target.id === "inbox-groups") {
        before = {};
        e.detail.target.querySelectorAll("tr[data-case]").forEach(function (r) { before[r.getAttribute("data-case")] = true; });
      }
    });
    body.addEventListener("htmx:afterSwap", function (e) {
      if (!before || !e.detail.target || e.detail.target.id !== "inbox-groups") return;
      e.detail.target.querySelectorAll("tr[data-case]").forEach(function (r) {
        if (!before[r.getAttribute("data-case")]) r.classList.add("fresh");
      });
      before = null;
    });
  }

  function start() {
    document.querySelectorAll("[data-sig]").forEach(pad);
    live();
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
