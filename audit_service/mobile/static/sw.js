// Service worker for the phone app (scope /m/). It precaches the app shell so the app opens
// offline. API calls are never cached here: they go straight to the network (the app keeps
// its own data in IndexedDB). The cache name carries a version and a build id that the
// server fills in from a hash of the static files, so every change gets a fresh cache.

const VERSION = "v1";
const BUILD = "__BUILD_ID__";
const CACHE = `auditlens-m-${VERSION}-${BUILD}`;

const PRECACHE = [
  "./",
  "index.html",
  "app.js",
  "api.js",
  "checklist.js",
  "counters.js",
  "db.js",
  "form.js",
  "i18n.js",
  "photos.js",
  "queue.js",
  "returned.js",
  "util.js",
  "styles.css",
  "manifest.webmanifest",
  "icon.svg",
];

const SCOPE = new URL("./", self.location).pathname; // "/m/"

self.addEventListener("install", (event) => {
  event.waitUntil(
    (async () => {
      const cache = await caches.open(CACHE);
      // cache: "reload" skips the HTTP cache, so the shell is what the server has now.
      await cache.addAll(PRECACHE.map((url) => new Request(url, { cache: "reload" })));
      await self.skipWaiting();
    })(),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    (async () => {
      for (const name of await caches.keys()) {
        if (name.startsWith("auditlens-m-") && name !== CACHE) await caches.delete(name);
      }
      await self.clients.claim();
    })(),
  );
});

self.addEventListener("fetch", (event) => {
  const req = event.request;
  const url = new URL(req.url);
  // Network only (not even looked at): other origins, non-GET, anything outside /m/ (the API).
  if (req.method !== "GET" || url.origin !== self.location.origin || !url.pathname.startsWith(SCOPE)) return;
  if (url.pathname === `${SCOPE}sw.js`) return;
  if (req.mode === "navigate" && (url.pathname === SCOPE || url.pathname === `${SCOPE}index.html`)) {
    event.respondWith(shell(req));
    return;
  }
  event.respondWith(cacheFirst(req));
});

async function shell(req) {
  const cache = await caches.open(CACHE);
  const hit = (await cache.match("index.html")) || (await cache.match("./"));
  if (hit) return hit;
  return fetch(req);
}

async function cacheFirst(req) {
  const cache = await caches.open(CACHE);
  const hit = await cache.match(req, { ignoreSearch: true });
  if (hit) return hit;
  return fetch(req);
}
