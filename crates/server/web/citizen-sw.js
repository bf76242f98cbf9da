"use strict";
// The citizen app's service worker (scope /app/): keeps the app shell so that the app opens
// without a network. Only the shell's own files are cached; API answers, which hold personal data,
// never are: they always go to the network.
const CACHE = "vaxtrace-app-v1";
const SHELL = [
  "/app/", "/app/manifest.webmanifest", "/static/citizen.css", "/static/citizen.js", "/static/app.js",
  "/static/qr-reader.js", "/static/vendor/jsQR.js", "/static/icons/icon-192.png", "/static/icons/icon-512.png",
];

self.addEventListener("install", (event) => {
  // One missing file must not stop the worker from installing: each is cached on its own.
  event.waitUntil(caches.open(CACHE)
    .then((cache) => Promise.all(SHELL.map((url) => cache.add(new Request(url, { cache: "no-cache" })).catch(() => null))))
    .then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(caches.keys()
    .then((keys) => Promise.all(keys.filter((k) => k.startsWith("vaxtrace-app-") && k !== CACHE).map((k) => caches.delete(k))))
    .then(() => self.clients.claim()));
});

// The shell: network first (so a new release shows at once), the cached copy when offline.
self.addEventListener("fetch", (event) => {
  const req = event.request;
  const url = new URL(req.url);
  if (req.method !== "GET" || url.origin !== self.location.origin) return;
  const path = req.mode === "navigate" && url.pathname.startsWith("/app") ? "/app/" : url.pathname;
  if (!SHELL.includes(path)) return;
  event.respondWith(fetch(req).then((res) => {
    if (res.ok && !res.redirected) {
      const copy = res.clone();
      caches.open(CACHE).then((cache) => cache.put(path, copy));
    }
    return res;
  }).catch(() => caches.match(path).then((hit) => hit || Response.error())));
});
