// Finishes the release build of the web client (run by `cargo xtask` after
// cargo, the splitter, wasm-bindgen and wasm-opt; see xtask/src/web.rs):
//
// 1. assembles DIST from STAGING and the page template (tools/assemble.mjs:
//    content-hashed names, one minified script that starts the app, the
//    lazily loaded modules pinned by integrity, `public/`'s files);
// 2. gives the service worker the build's id and file list, so that a new
//    build's worker caches every module of it (and drops the old build's);
// 3. precompresses every text and wasm asset next to itself, as `.br`
//    (brotli, quality 11) and `.gz` (zopfli: gzip-compatible, ~4 % smaller
//    than gzip -9), which the server sends as-is to browsers that accept
//    them;
// 4. prints the size of the first load and of every lazily loaded module
//    as sent, against the budgets in frontend/budgets.json.
//
// Usage: node tools/finish-dist.mjs STAGING DIST [--enforce] [--salt TEXT]
// With --enforce, a module over its budget, or one without a budget, makes
// it exit with status 3 once everything is built (`cargo xtask` reports
// it; `cargo xtask test` counts it as a failed check); without, it is only
// printed. --salt TEXT
// makes a distinct build of the same code (every module gets a custom
// section holding TEXT, so every name changes): `cargo xtask test` deploys
// one over the other while a page is open.

import { gzipAsync } from '@gfx/zopfli';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { brotliCompressSync, brotliDecompressSync, constants, gunzipSync } from 'node:zlib';
import { assemble, contentHash } from './assemble.mjs';
import { checkBudgets } from './budgets.mjs';

const [staging, dist, ...flags] = process.argv.slice(2);
const enforce = flags.includes('--enforce');
const saltAt = flags.indexOf('--salt');
const salt = saltAt >= 0 ? flags[saltAt + 1] : undefined;
const known = flags.every((f, i) => f === '--enforce' || f === '--salt' || (i === saltAt + 1 && saltAt >= 0));
if (!staging || !dist || !known || (saltAt >= 0 && !salt)) {
  console.error('usage: node tools/finish-dist.mjs STAGING DIST [--enforce] [--salt TEXT]');
  process.exit(2);
}
const root = join(dirname(fileURLToPath(import.meta.url)), '..');

// 1. The page and its assets.
const built = await assemble({ root, staging, dist, salt });
const index = readFileSync(join(dist, built.index), 'utf8');

// 2. The service worker learns the build (named after its page, which
// names every other file by its hash) and the files to cache.
const swPath = join(dist, 'sw.js');
const sw = readFileSync(swPath, 'utf8');
const named = sw
  .replace(/^const BUILD = "dev";$/m, `const BUILD = "${contentHash(index)}";`)
  .replace(/^const FILES = \[\];$/m, `const FILES = ${JSON.stringify(built.files.map((f) => '/' + f))};`);
if (named === sw || named.includes('const FILES = [];')) {
  throw new Error('sw.js does not declare BUILD and FILES as expected');
}
writeFileSync(swPath, named);

// 3. Precompressed copies; their sizes, by file.
const compressible = /\.(wasm|js|css|html|svg|webmanifest)$/;
const sent = new Map();
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
  sent.set(name, { raw: bytes.length, gzip: gz.length, brotli: br.length });
}

// 4. Sizes against budgets.
const budgets = JSON.parse(readFileSync(join(root, 'frontend', 'budgets.json'), 'utf8'));
const over = checkBudgets({ built, sent, budgets, print: console.log });
if (!salt) writeFileSync(join(staging, 'sizes.json'), JSON.stringify(over.sizes, null, 2));
if (over.problems.length > 0) {
  for (const problem of over.problems) console.error(`${enforce ? 'error' : 'warning'}: ${problem}`);
  // Everything is built: the caller tells a budget miss from a failure.
  if (enforce) process.exit(3);
}
