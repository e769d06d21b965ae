// Assembles the release web client in DIST from wasm-bindgen's output
// (STAGING) and the page template `frontend/index.html` (the same file
// `trunk serve` builds from), the way trunk's release build did:
//
// - every asset is named after its content (`courier-frontend-<hash>.js`,
//   `…_bg.wasm`, `style-<hash>.css`, `favicon-<hash>.svg`), so that the
//   service worker and browsers may keep it forever;
// - the wasm-bindgen JavaScript is minified and ends with the call that
//   starts the app, so the page needs no inline script (a strict
//   Content-Security-Policy can forbid them); the WebAssembly is preloaded
//   from the page and fetched with the same integrity hash;
// - every `<link data-trunk …>` of the template becomes a plain tag with a
//   Subresource Integrity hash, and the files it names with
//   `rel="copy-file"` (the service worker, manifest and icons from
//   `public/`) are copied as they are.
//
// Exported for tools/finish-dist.mjs, which runs it first.

import { transform } from 'esbuild';
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, extname, join } from 'node:path';

/** `sha384-…`, the Subresource Integrity of `bytes`. */
export function integrity(bytes) {
  return 'sha384-' + createHash('sha384').update(bytes).digest('base64');
}

/** The first 16 hex digits of the SHA-256 of `bytes`. */
export function contentHash(bytes) {
  return createHash('sha256').update(bytes).digest('hex').slice(0, 16);
}

/** `stem-<hash>ext` for `name` (`courier-frontend_bg.wasm` keeps `_bg`). */
function hashedName(name, bytes) {
  const ext = extname(name);
  const stem = basename(name, ext);
  const [head, tail] = stem.endsWith('_bg') ? [stem.slice(0, -3), '_bg'] : [stem, ''];
  return `${head}-${contentHash(bytes)}${tail}${ext}`;
}

/** Writes `bytes` into `dist` under its content-hashed name; returns it. */
function put(dist, name, bytes) {
  const hashed = hashedName(name, bytes);
  writeFileSync(join(dist, hashed), bytes);
  return hashed;
}

/** The attributes of one `<link data-trunk …>` tag, as an object. */
function attributes(tag) {
  return Object.fromEntries([...tag.matchAll(/([\w-]+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
}

/**
 * Builds DIST: returns `{ index, js, wasm, styles }`, the names written
 * for the page, its script, its WebAssembly module and its style sheets.
 */
export async function assemble({ root, staging, dist, name = 'courier-frontend' }) {
  rmSync(dist, { recursive: true, force: true });
  mkdirSync(dist, { recursive: true });
  const templatePath = join(root, 'frontend', 'index.html');
  const template = readFileSync(templatePath, 'utf8');

  // The WebAssembly first: the script names it.
  const wasmBytes = readFileSync(join(staging, `${name}_bg.wasm`));
  const wasm = put(dist, `${name}_bg.wasm`, wasmBytes);
  const wasmIntegrity = integrity(wasmBytes);

  // The wasm-bindgen glue, minified, ending with the start of the app.
  const glue = readFileSync(join(staging, `${name}.js`), 'utf8');
  if (!/async function __wbg_init\(/.test(glue)) {
    throw new Error(`${name}.js has no __wbg_init: is it wasm-bindgen --target web output?`);
  }
  const start =
    `\n__wbg_init({ module_or_path: fetch(${JSON.stringify('/' + wasm)}, ` +
    `{ integrity: ${JSON.stringify(wasmIntegrity)} }) });\n`;
  const { code } = await transform(glue + start, {
    minify: true,
    format: 'esm',
    target: 'es2022',
    legalComments: 'none',
  });
  const jsBytes = Buffer.from(code);
  const js = put(dist, `${name}.js`, jsBytes);
  console.log(`minified ${name}.js: ${glue.length} -> ${code.length} bytes`);

  // The template's trunk directives, each replaced by what it stands for.
  const tags = [];
  const styles = [];
  let page = template.replace(/<link\s+data-trunk\s[^>]*>\s*/gs, (tag) => {
    const attrs = attributes(tag);
    const source = join(dirname(templatePath), attrs.href ?? '');
    switch (attrs.rel) {
      case 'rust':
        tags.push(
          `<link rel="preload" href="/${wasm}" as="fetch" type="application/wasm" ` +
            `crossorigin integrity="${wasmIntegrity}" />`,
          `<script type="module" src="/${js}" integrity="${integrity(jsBytes)}"></script>`,
        );
        break;
      case 'css': {
        const bytes = readFileSync(source);
        const css = put(dist, basename(source), bytes);
        styles.push(css);
        tags.push(`<link rel="stylesheet" href="/${css}" integrity="${integrity(bytes)}" />`);
        break;
      }
      case 'icon': {
        const bytes = readFileSync(source);
        const icon = put(dist, basename(source), bytes);
        tags.push(`<link rel="icon" href="/${icon}" type="image/svg+xml" integrity="${integrity(bytes)}" />`);
        break;
      }
      case 'copy-file':
        copyFileSync(source, join(dist, basename(source)));
        break;
      default:
        throw new Error(`frontend/index.html: unknown trunk asset rel="${attrs.rel}"`);
    }
    return '';
  });
  if (!tags.some((t) => t.startsWith('<script'))) {
    throw new Error('frontend/index.html has no <link data-trunk rel="rust">');
  }
  page = page.replace(/(\s*)<\/head>/, (_, space) => `${space}  ${tags.join(`${space}  `)}${space}</head>`);
  writeFileSync(join(dist, 'index.html'), page);
  return { index: 'index.html', js, wasm, styles };
}
