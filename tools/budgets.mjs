// The size table of the release web client: the first load (page, script,
// styles and first WebAssembly module) and every lazily loaded module, as
// sent (gzip: zopfli; brotli 11), each against its budget in
// frontend/budgets.json. Printed on every build by tools/finish-dist.mjs.

const kb = (bytes) => `${(bytes / 1000).toFixed(1)} KB`;

/**
 * Prints the table; returns `{ problems, sizes }`: what is over budget or
 * has no budget, and the figures (for `sizes.json` in the staging dir).
 * `built` is tools/assemble.mjs's result, `sent` maps each file to its
 * `{ raw, gzip, brotli }` sizes, `budgets` is frontend/budgets.json.
 */
export function checkBudgets({ built, sent, budgets, print }) {
  const problems = [];
  const rows = [];
  const size = (file) => {
    const s = sent.get(file);
    if (!s) throw new Error(`no compressed size for ${file}`);
    return s;
  };
  const row = (label, files, budget, note = '') => {
    const gzip = files.reduce((n, f) => n + size(f).gzip, 0);
    const brotli = files.reduce((n, f) => n + size(f).brotli, 0);
    let verdict = '';
    if (budget === undefined) {
      verdict = 'NO BUDGET';
      problems.push(`${label} (${kb(gzip)} gzip) has no budget in frontend/budgets.json`);
    } else if (gzip > budget) {
      verdict = `OVER by ${kb(gzip - budget)}`;
      problems.push(`${label} is ${gzip} bytes gzipped, over its ${budget}-byte budget`);
    } else {
      verdict = 'ok';
    }
    rows.push({ label, gzip, brotli, budget, verdict, note });
    return { label, gzip, brotli, budget: budget ?? null, files };
  };

  const first = [built.index, built.js, ...built.styles, built.wasm];
  const sizes = { firstLoad: row('first load', first, budgets['first load'], 'HTML + JS + CSS + first wasm') };
  const parts = first.map((f) => ({ file: f, ...size(f) }));
  sizes.firstLoad.parts = parts;
  sizes.modules = [];
  const modules = budgets.modules ?? {};
  const features = [...new Set(built.lazy.flatMap((m) => m.features))].sort();
  for (const feature of features) {
    const own = built.lazy.filter((m) => m.features.length === 1 && m.features[0] === feature);
    const result = row(feature, own.map((m) => m.file), modules[feature], own.map((m) => m.file).join(' '));
    sizes.modules.push({ feature, ...result });
  }
  const shared = built.lazy.filter((m) => m.features.length > 1);
  if (shared.length > 0) {
    const note = shared.map((m) => `${m.stem}: ${m.features.join('+')}`).join('; ');
    sizes.shared = row('shared chunks', shared.map((m) => m.file), modules['shared chunks'], note);
  }
  sizes.lazyTotal = built.lazy.reduce((n, m) => n + size(m.file).gzip, 0);

  const pad = (s, n) => String(s).padEnd(n);
  const num = (s, n) => String(s).padStart(n);
  print(`${pad('module', 16)}${num('gzip', 10)}${num('brotli', 10)}${num('budget', 10)}  verdict`);
  for (const r of rows) {
    const budget = r.budget === undefined ? '-' : kb(r.budget);
    print(`${pad(r.label, 16)}${num(kb(r.gzip), 10)}${num(kb(r.brotli), 10)}${num(budget, 10)}  ${r.verdict}   ${r.note}`);
  }
  for (const p of parts) print(`  ${pad(p.file, 40)}${num(kb(p.gzip), 10)} gzip`);
  print(`lazily loaded in all: ${kb(sizes.lazyTotal)} gzip in ${built.lazy.length} modules`);
  return { problems, sizes };
}
