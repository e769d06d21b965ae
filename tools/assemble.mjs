// Assembles the release web client in DIST from the build's STAGING
// directory (the splitter's and wasm-bindgen's output, see
// xtask/src/web.rs) and the page template `frontend/index.html` (the same
// file `trunk serve` builds from):
//
// - every asset is named after its content (`courier-frontend-<hash>.js`,
//   `…_bg.wasm`, `split_devices-<hash>.wasm`, `style-<hash>.css`, …), so
//   that the service worker and browsers may keep it forever;
// - the lazily loaded modules are fetched by the splitter's loader
//   (`__wasm_split.js`) under those names and with their integrity hashes,
//   so a page can only ever instantiate modules of its own build;
// - the wasm-bindgen glue and that loader are bundled into one minified
//   script that ends with the call starting the app, so the page needs no
//   inline script (a strict Content-Security-Policy can forbid them); the
//   first WebAssembly module is preloaded from the page and fetched with
//   the same integrity hash;
// - every `<link data-trunk …>` of the template becomes a plain tag with a
//   Subresource Integrity hash, and the files it names with
//   `rel="copy-file"` (the service worker, manifest and icons from
//   `public/`) are copied as they are.
//
// Exported for tools/finish-dist.mjs, which runs it first.

import { build } from 'esbuild';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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

/** `n` as an unsigned LEB128 number. */
function uleb(n) {
  const out = [];
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
  return out;
}

/**
 * `wasm` with a custom section `courier-build` holding `salt` (engines
 * ignore custom sections): a build whose every module differs from an
 * otherwise identical one's, which the deployment test needs.
 */
function salted(wasm, salt) {
  if (!salt) return wasm;
  const name = Buffer.from('courier-build');
  const body = Buffer.concat([Buffer.from(uleb(name.length)), name, Buffer.from(salt)]);
  return Buffer.concat([wasm, Buffer.from([0, ...uleb(body.length)]), body]);
}

/** The attributes of one `<link data-trunk …>` tag, as an object. */
function attributes(tag) {
  return Object.fromEntries([...tag.matchAll(/([\w-]+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
}

/**
 * The splitter's loader with every module it fetches renamed to its
 * hashed name and fetched with its integrity hash; `modules` maps the
 * splitter's file stem (`split_devices`) to `{ file, integrity }`.
 */
function pinModules(loader, modules) {
  const seen = new Set();
  const pinned = loader.replace(
    /fetch\(new URL\("\.\/([\w-]+)\.wasm", import\.meta\.url\)\)/g,
    (call, stem) => {
      const module = modules.get(stem);
      if (!module) throw new Error(`__wasm_split.js fetches ${stem}.wasm, which the splitter did not write`);
      seen.add(stem);
      return `fetch(new URL(${JSON.stringify('./' + module.file)}, import.meta.url), ` +
        `{ integrity: ${JSON.stringify(module.integrity)} })`;
    },
  );
  for (const stem of modules.keys()) {
    if (!seen.has(stem)) throw new Error(`__wasm_split.js never fetches ${stem}.wasm`);
  }
  return pinned;
}

/**
 * Builds DIST (with `salt`, a distinct build of the same code). Returns
 * the names written: `index`, `js`, `wasm` (the first
 * module), `styles`, `files` (every hashed asset, for the service worker)
 * and `lazy`: for each lazily loaded module `{ file, stem, features }`,
 * with the features that need it.
 */
export async function assemble({ root, staging, dist, salt, name = 'courier-frontend' }) {
  rmSync(dist, { recursive: true, force: true });
  mkdirSync(dist, { recursive: true });
  const templatePath = join(root, 'frontend', 'index.html');
  const template = readFileSync(templatePath, 'utf8');
  const files = [];
  const put = (file, bytes) => {
    const hashed = hashedName(file, bytes);
    writeFileSync(join(dist, hashed), bytes);
    files.push(hashed);
    return hashed;
  };

  // The lazily loaded modules, by the splitter's manifest (none in an
  // unsplit build): which features need which files.
  const manifestPath = join(staging, '__wasm_split.json');
  const needs = existsSync(manifestPath) ? JSON.parse(readFileSync(manifestPath, 'utf8')) : {};
  const modules = new Map();
  for (const [feature, stems] of Object.entries(needs)) {
    for (const stem of stems) {
      if (!modules.has(stem)) {
        const bytes = salted(readFileSync(join(staging, `${stem}.wasm`)), salt);
        modules.set(stem, { stem, file: put(`${stem}.wasm`, bytes), integrity: integrity(bytes), features: [] });
      }
      modules.get(stem).features.push(feature);
    }
  }

  // The first WebAssembly module: the script names it.
  const wasmBytes = salted(readFileSync(join(staging, `${name}_bg.wasm`)), salt);
  const wasm = put(`${name}_bg.wasm`, wasmBytes);
  const wasmIntegrity = integrity(wasmBytes);

  // One script: the wasm-bindgen glue (and the splitter's loader, which it
  // imports), minified, ending with the start of the app.
  const glue = readFileSync(join(staging, `${name}.js`), 'utf8');
  if (!/async function __wbg_init\(/.test(glue)) {
    throw new Error(`${name}.js has no __wbg_init: is it wasm-bindgen --target web output?`);
  }
  const loaderPath = join(staging, '__wasm_split.js');
  const sources = { [`./${name}.js`]: glue };
  if (existsSync(loaderPath)) {
    sources['./__wasm_split.js'] = pinModules(readFileSync(loaderPath, 'utf8'), modules);
  } else if (modules.size > 0) {
    throw new Error('the splitter wrote modules but no __wasm_split.js');
  }
  const start =
    `import init from "./${name}.js";\n` +
    `init({ module_or_path: fetch(${JSON.stringify('/' + wasm)}, ` +
    `{ integrity: ${JSON.stringify(wasmIntegrity)} }) });\n`;
  const bundled = await build({
    stdin: { contents: start, resolveDir: staging, sourcefile: 'start.js' },
    bundle: true,
    write: false,
    minify: true,
    format: 'esm',
    target: 'es2022',
    legalComments: 'none',
    logLevel: 'warning',
    // wasm-bindgen names the loader once per imported function.
    logOverride: { 'duplicate-object-key': 'silent' },
    plugins: [{
      // The two generated files, as given (the loader with its modules pinned).
      name: 'staging',
      setup(b) {
        b.onResolve({ filter: /^\.\/(__wasm_split|[\w-]+)\.js$/ }, (args) =>
          sources[args.path] ? { path: args.path, namespace: 'staging' } : undefined);
        b.onLoad({ filter: /.*/, namespace: 'staging' }, (args) => ({ contents: sources[args.path], loader: 'js' }));
      },
    }],
  });
  const jsBytes = Buffer.from(bundled.outputFiles[0].contents);
  const js = put(`${name}.js`, jsBytes);
  const sourceBytes = Object.values(sources).reduce((n, s) => n + s.length, 0);
  console.log(`bundled and minified the script: ${sourceBytes} -> ${jsBytes.length} bytes`);

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
        const css = put(basename(source), bytes);
        styles.push(css);
        tags.push(`<link rel="stylesheet" href="/${css}" integrity="${integrity(bytes)}" />`);
        break;
      }
      case 'icon': {
        const bytes = readFileSync(source);
        const icon = put(basename(source), bytes);
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
  return { index: 'index.html', js, wasm, styles, files, lazy: [...modules.values()] };
}
