// Courier's service worker: keeps the app shell (the page, its script,
// WebAssembly, styles and icons) so that a repeat visit opens at once and
// offline. It never touches the WebSocket, the API or media: messages only
// ever travel over the socket, end-to-end encrypted.
// The release build (tools/finish-dist.mjs) names the cache after the build.
const CACHE = "courier-shell-dev";
const SHELL = ["/", "/manifest.webmanifest", "/icon.svg", "/icon-192.png", "/icon-512.png"];
const NEVER = ["/ws", "/healthz", "/readyz", "/metrics", "/media"];

// The page names its script, WebAssembly and styles (content-hashed by the
// build); keep
// them with the page so that the shell opens offline from the first visit.
async function fillShell() {
  const cache = await caches.open(CACHE);
  await cache.addAll(SHELL);
  const page = await (await cache.match("/")).text();
  const assets = [...page.matchAll(/(?:href|src)="(\/[^"]+)"/g)]
    .map((match) => match[1])
    .filter((path) => !SHELL.includes(path));
  await cache.addAll([...new Set(assets)]);
}

self.addEventListener("install", (event) => {
  event.waitUntil(fillShell().then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys()
      .then((names) => Promise.all(names.filter((n) => n !== CACHE).map((n) => caches.delete(n))))
      .then(() => self.clients.claim()),
  );
});

// Fetches `request` and keeps a copy of a good answer under `key`.
function refresh(request, key) {
  return fetch(request).then((response) => {
    if (response.ok) {
      const copy = response.clone();
      caches.open(CACHE).then((cache) => cache.put(key, copy));
    }
    return response;
  });
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== self.location.origin) return;
  if (NEVER.some((path) => url.pathname.startsWith(path))) return;
  if (request.mode === "navigate") {
    // The page: from the cache at once, refreshed in the background.
    event.respondWith(
      caches.match("/").then((cached) => {
        const fresh = refresh(request, "/");
        return cached || fresh;
      }),
    );
    return;
  }
  // Scripts, WebAssembly, styles and icons have hashed names: the cache is
  // always right for them once filled.
  event.respondWith(caches.match(request).then((cached) => cached || refresh(request, request)));
});
