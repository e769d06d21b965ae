// Finishes trunk's release build of the web client (run by `cargo xtask`
// after `trunk build --release`):
//
// 1. minifies the wasm-bindgen JavaScript (trunk leaves it as generated) and
//    refreshes the SRI hash trunk wrote for it in index.html;
// 2. names the service worker's cache after the build, so that a new build
//    replaces the cached shell;
// 3. precompresses every text and wasm asset next to itself, as `.br`
//    (brotli, quality 11) and `.gz` (zopfli: gzip-compatible, ~4 % smaller
//    than gzip -9), which the server sends as-is to browsers that accept
//    them, and prints the first load's size as sent.
//
// Usage: node tools/finish-dist.mjs frontend/dist [--budget BYTES]
// With --budget, a first load (wasm + JS + CSS + HTML) larger than BYTES as
// sent gzipped fails the build (`cargo xtask test` passes the 400 KB target).

import { transform } from 'esbuild';
import { gzipAsync } from '@gfx/zopfli';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { brotliCompressSync, brotliDecompressSync, constants, gunzipSync } from 'node:zlib';

const [dist, flag, limit] = process.argv.slice(2);
const budget = flag === '--budget' ? Number(limit) : null;
if (!dist || (flag !== undefined && !(budget > 0))) {
  console.error('usage: node tools/finish-dist.mjs DIST_DIR [--budget BYTES]');
  process.exit(2);
}

const files = readdirSync(dist);
const indexPath = join(dist, 'index.html');
let index = readFileSync(indexPath, 'utf8');

// 1. The wasm-bindgen glue: `<name>-<hash>.js`, preloaded with an integrity.
for (const name of files.filter((f) => /^courier-frontend-[0-9a-f]+\.js$/.test(f))) {
  const path = join(dist, name);
  const source = readFileSync(path, 'utf8');
  const { code } = await transform(source, {
    minify: true,
    format: 'esm',
    target: 'es2022',
    legalComments: 'none',
  });
  writeFileSync(path, code);
  const integrity = 'sha384-' + createHash('sha384').update(code).digest('base64');
  const tag = new RegExp(`(<link[^>]*href="/${name}"[^>]*integrity=")[^"]*(")`);
  if (!tag.test(index)) {
    throw new Error(`index.html does not preload ${name} with an integrity hash`);
  }
  index = index.replace(tag, `$1${integrity}$2`);
  console.log(`minified ${name}: ${source.length} -> ${code.length} bytes`);
}
writeFileSync(indexPath, index);

// The service worker's cache is named after this build, so a new build
// installs a new worker, which caches the new shell and drops the old one.
const swPath = join(dist, 'sw.js');
const build = createHash('sha256').update(index).digest('hex').slice(0, 16);
const sw = readFileSync(swPath, 'utf8');
const named = sw.replace(/const CACHE = "courier-shell-[^"]*";/, `const CACHE = "courier-shell-${build}";`);
if (named === sw && !sw.includes(`courier-shell-${build}`)) {
  throw new Error('sw.js does not name its cache as expected');
}
writeFileSync(swPath, named);

// 2. Precompressed copies.
const compressible = /\.(wasm|js|css|html|svg|webmanifest)$/;
// What a first visit must download before the page works.
const firstLoad = /^(index\.html|courier-frontend-[0-9a-f]+(_bg\.wasm|\.js)|style-[0-9a-f]+\.css)$/;
let gzipTotal = 0;
let brotliTotal = 0;
for (const name of files.filter((f) => compressible.test(f))) {
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
  if (firstLoad.test(name)) {
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
