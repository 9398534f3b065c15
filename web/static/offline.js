// The grid worker's phone away from the network: an outcome form sent
// while offline is kept on the phone (localStorage) and sent when the
// connection returns; the server records a form once (its submission
// token), so a form sent twice is not a second visit. The service worker
// keeps the task pages that were opened, to open them again offline.
(function () {
  "use strict";
  var KEY = "safetynet-outbox";

  function outbox() {
    try { return JSON.parse(localStorage.getItem(KEY) || "[]"); } catch (e) { return []; }
  }
  function keep(list) { localStorage.setItem(KEY, JSON.stringify(list)); }
  function say(text) {
    var p = document.getElementById("offline-status");
    if (p && text) { p.textContent = text; p.hidden = false; }
  }

  // send posts one saved form; true when the server has it (recorded now
  // or before), false when the network is still away.
  function send(item) {
    return fetch(item.url, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/x-www-form-urlencoded" }, body: item.body
    }).then(function (r) { return r.ok || r.redirected; }, function () { return false; });
  }

  // flush sends the saved forms, one at a time, unless a flush is under
  // way; what does not go stays for the next try. A village's network
  // comes and goes without the "online" event saying so, so while forms
  // wait the page tries again every RETRY milliseconds.
  var RETRY = 10000, flushing = false;
  function flush() {
    var list = outbox();
    if (flushing || !list.length || !navigator.onLine) { return; }
    flushing = true;
    var left = [], sent = 0;
    list.reduce(function (p, item) {
      return p.then(function () {
        return send(item).then(function (ok) { if (ok) { sent++; } else { left.push(item); } });
      });
    }, Promise.resolve()).then(function () {
      // Forms saved while these were sent are kept too.
      var added = outbox().slice(list.length);
      keep(left.concat(added));
      flushing = false;
      var p = document.getElementById("offline-status");
      if (sent && p && p.dataset.sent) { say(p.dataset.sent.replace("%d", sent)); }
      document.documentElement.dataset.outbox = String(left.length + added.length);
    });
  }

  // fields are a form's fields as text; photos cannot be kept offline
  // (the page says so), so file fields are left out.
  function fields(form) {
    var out = new URLSearchParams();
    new FormData(form).forEach(function (v, k) { if (typeof v === "string") { out.append(k, v); } });
    return out.toString();
  }

  var form = document.getElementById("outcome-form");
  if (form) {
    form.addEventListener("submit", function (ev) {
      if (navigator.onLine) { return; } // the ordinary post
      ev.preventDefault();
      var list = outbox();
      list.push({ url: form.action, body: fields(form) });
      keep(list);
      say(form.dataset.offline);
      form.querySelector("button[type=submit]").disabled = true;
      document.documentElement.dataset.outbox = String(list.length);
    });
  }
  window.addEventListener("online", flush);
  document.addEventListener("visibilitychange", function () { if (!document.hidden) { flush(); } });
  setInterval(function () { if (outbox().length) { flush(); } }, RETRY);
  document.documentElement.dataset.outbox = String(outbox().length);
  flush();

  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register("/sw.js", { scope: "/" }).catch(function () {});
  }
})();
