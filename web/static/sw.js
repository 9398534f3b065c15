// The grid worker's pages, kept as they were last opened: the task list
// and each task card open again without a connection. Only GET pages of
// the grid worker are kept; forms go to the network (offline.js keeps an
// outcome form on the phone until the connection returns).
"use strict";
var PAGES = "safetynet-pages-v1";

self.addEventListener("install", function (ev) { ev.waitUntil(self.skipWaiting()); });
self.addEventListener("activate", function (ev) { ev.waitUntil(self.clients.claim()); });

self.addEventListener("fetch", function (ev) {
  var req = ev.request;
  var url = new URL(req.url);
  if (req.method !== "GET" || url.origin !== self.location.origin) { return; }
  if (!(url.pathname === "/tasks" || url.pathname.indexOf("/tasks/") === 0 || url.pathname.indexOf("/static/") === 0)) { return; }
  if (url.pathname.indexOf(".xlsx") >= 0) { return; }
  ev.respondWith(fetch(req).then(function (res) {
    if (res.ok) {
      var copy = res.clone();
      caches.open(PAGES).then(function (c) { c.put(req, copy); });
    }
    return res;
  }, function () {
    return caches.match(req).then(function (hit) { return hit || Response.error(); });
  }));
});
