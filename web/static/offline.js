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

  function flush() {
    var list = outbox();
    if (!list.length || !navigator.onLine) { return; }
    var left = [], sent = 0;
    list.reduce(function (p, item) {
      return p.then(function () {
        return send(item).then(function (ok) { if (ok) { sent++; } else { left.push(item); } });
      });
    }, Promise.resolve()).then(function () {
      keep(left);
      var p = document.getElementById("offline-status");
      if (sent && p && p.dataset.sent) { say(p.dataset.sent.replace("%d", sent)); }
      document.documentElement.dataset.outbox = String(left.length);
    });
  }

  var form = document.getElementById("outcome-form");
  if (form) {
    form.addEventListener("submit", function (ev) {
      if (navigator.onLine) { return; } // the ordinary post
      ev.preventDefault();
      var list = outbox();
      list.push({ url: form.action, body: new URLSearchParams(new FormData(form)).toString() });
      keep(list);
      say(form.dataset.offline);
      form.querySelector("button[type=submit]").disabled = true;
      document.documentElement.dataset.outbox = String(list.length);
    });
  }
  window.addEventListener("online", flush);
  document.documentElement.dataset.outbox = String(outbox().length);
  flush();

  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register("/sw.js", { scope: "/" }).catch(function () {});
  }
})();
