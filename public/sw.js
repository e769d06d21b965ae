// Courier's service worker: keeps this build of the app — the page, its
// script, styles, icons and every WebAssembly module, the lazily loaded
// features' too — so that a repeat visit opens at once and every feature
// works offline. It caches and serves nothing else: never the WebSocket,
// media, the health checks or any other answer of the server (`ours`
// below is an allow-list).
//
// The release build (tools/finish-dist.mjs) writes the build's id and its
// file list below. A new build's worker caches all of its files, then waits
// until the page asks it to take over (the page reloads into it then) or
// until no page of the old build is open: an open page keeps being served
// its own build's files, so it never loads a module of another build.
// `trunk serve`'s development build keeps these defaults: it takes over at
// once and caches what the page names.
const BUILD = "dev";
const FILES = [];
const CACHE = `courier-${BUILD}`;
const SHELL = ["/", "/manifest.webmanifest", "/icon.svg", "/icon-192.png", "/icon-512.png"];
const NEVER = ["/ws", "/healthz", "/readyz", "/metrics", "/media"];

// The unhashed files are fetched past the HTTP cache, so that a build's
// cache holds that build's; the hashed ones never change, and the HTTP
// cache (where the page just put them) may give them.
const fresh = (path) => new Request(path, { cache: "reload" });

async function fill() {
  const cache = await caches.open(CACHE);
  await cache.addAll([...SHELL.map(fresh), ...FILES]);
  if (FILES.length === 0) {
    // A development build: keep what the page names (script, wasm, styles).
    const page = await (await cache.match("/")).text();
    const assets = [...page.matchAll(/(?:href|src)="(\/[^"]+)"/g)]
      .map((match) => match[1])
      .filter((path) => !SHELL.includes(path));
    await cache.addAll([...new Set(assets)].map(fresh));
  }
}

self.addEventListener("install", (event) => {
  event.waitUntil(fill().then(() => BUILD === "dev" && self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys()
      .then((names) => Promise.all(
        names.filter((n) => n.startsWith("courier-") && n !== CACHE).map((n) => caches.delete(n)),
      ))
      .then(() => self.clients.claim()),
  );
});

// The page asks a waiting worker to take over when it is ready to reload.
self.addEventListener("message", (event) => {
  if (event.data === "take-over") self.skipWaiting();
});

// The app shell: the page, its icons and manifest, and this build's files.
// Only these are ever answered from the cache or put in it; everything else
// (the socket, media, health checks, any API a later server adds) passes
// to the network untouched.
const OURS = new Set([...SHELL, ...FILES]);
// A development build lists no files: its own assets are known by kind.
const ASSET = /^\/(?:snippets\/.*|[^/]+)\.(?:js|wasm|css)$/;
const ours = (path) => OURS.has(path) || (BUILD === "dev" && ASSET.test(path));

// This build's copy of `key`, or the network's (kept when the cache has
// no copy yet: a development build's files; never a response the server
// marks as a download, nor one from elsewhere).
function cached(request, key) {
  return caches.open(CACHE).then(async (cache) => {
    const hit = await cache.match(key);
    if (hit) return hit;
    const response = await fetch(request);
    const keep = response.ok && response.type === "basic"
      && !response.headers.has("Content-Disposition");
    if (keep && BUILD === "dev") cache.put(key, response.clone());
    return response;
  });
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== self.location.origin) return;
  if (NEVER.some((path) => url.pathname.startsWith(path))) return;
  // The page's check for a newer build on the server goes to the network.
  if (request.cache === "no-store") return;
  // The page (any client-side route) is this build's page.
  if (request.mode === "navigate") {
    event.respondWith(cached(request, "/"));
  } else if (ours(url.pathname)) {
    event.respondWith(cached(request, request));
  }
});
