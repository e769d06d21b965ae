// Finishes the release build of the web client (run by `cargo xtask` after
// cargo, wasm-bindgen and wasm-opt; see xtask/src/web.rs):
//
// 1. assembles DIST from wasm-bindgen's output in STAGING and the page
//    template (tools/assemble.mjs: content-hashed names, the minified
//    script that starts the app, Subresource Integrity, `public/`'s files);
// 2. names the service worker's cache after the build, so that a new build
//    replaces the cached shell;
// 3. precompresses every text and wasm asset next to itself, as `.br`
//    (brotli, quality 11) and `.gz` (zopfli: gzip-compatible, ~4 % smaller
//    than gzip -9), which the server sends as-is to browsers that accept
//    them, and prints the first load's size as sent.
//
// Usage: node tools/finish-dist.mjs STAGING DIST [--budget BYTES]
// With --budget, a first load (wasm + JS + CSS + HTML) larger than BYTES as
// sent gzipped fails the build (`cargo xtask test` passes the target).

import { gzipAsync } from '@gfx/zopfli';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { brotliCompressSync, brotliDecompressSync, constants, gunzipSync } from 'node:zlib';
import { assemble, contentHash } from './assemble.mjs';

const [staging, dist, flag, limit] = process.argv.slice(2);
const budget = flag === '--budget' ? Number(limit) : null;
if (!staging || !dist || (flag !== undefined && !(budget > 0))) {
  console.error('usage: node tools/finish-dist.mjs STAGING DIST [--budget BYTES]');
  process.exit(2);
}
const root = join(dirname(fileURLToPath(import.meta.url)), '..');

// 1. The page and its assets.
const built = await assemble({ root, staging, dist });
const index = readFileSync(join(dist, built.index), 'utf8');

// 2. The service worker's cache is named after this build, so a new build
// installs a new worker, which caches the new shell and drops the old one.
const swPath = join(dist, 'sw.js');
const build = contentHash(index);
const sw = readFileSync(swPath, 'utf8');
const named = sw.replace(/const CACHE = "courier-shell-[^"]*";/, `const CACHE = "courier-shell-${build}";`);
if (named === sw) {
  throw new Error('sw.js does not name its cache as expected');
}
writeFileSync(swPath, named);

// 3. Precompressed copies.
const compressible = /\.(wasm|js|css|html|svg|webmanifest)$/;
// What a first visit must download before the page works.
const firstLoad = new Set([built.index, built.js, built.wasm, ...built.styles]);
let gzipTotal = 0;
let brotliTotal = 0;
for (const name of readdirSync(dist).filter((f) => compressible.test(f))) {
  const path = join(dist, name);
  const bytes = readFileSync(path);
  const gz = Buffer.from(await gzipAsync(bytes, { numiterations: 15 }));
  const br = brotliCompressSync(bytes, {
    params: {
      [constants.BROTLI_PARAM_QUALITY]: constants.BROTLI_MAX_QUALITY,
      [constants.BROTLI_PARAM_SIZE_HINT]: bytes.length,
    },
  });
  // Both must give back the very bytes, or the build fails here.
  if (!gunzipSync(gz).equals(bytes) || !brotliDecompressSync(br).equals(bytes)) {
    throw new Error(`compressing ${name} does not round-trip`);
  }
  writeFileSync(`${path}.gz`, gz);
  writeFileSync(`${path}.br`, br);
  if (firstLoad.has(name)) {
    gzipTotal += gz.length;
    brotliTotal += br.length;
  }
}
console.log(
  `first load as served: ${(brotliTotal / 1000).toFixed(1)} KB brotli, ` +
    `${(gzipTotal / 1000).toFixed(1)} KB gzip (wasm + JS + CSS + HTML)`,
);
if (budget !== null && gzipTotal >= budget) {
  console.error(
    `the first load is ${gzipTotal} bytes gzipped, over the ${budget}-byte budget: ` +
      'see "Size of the release client" in the README',
  );
  process.exit(1);
}
