// Section "sizes": the shipped artifacts' sizes, measured by bench/sizes.mjs
// (written alongside the JS package). Skipped when that module is absent.
// The module may export a measuring function (default, measureSizes, sizes
// or run; sync or async) and optionally format(result) -> text.
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const name = 'sizes';
export const title = 'Artifact sizes';

const SIZES_MODULE = fileURLToPath(new URL('../sizes.mjs', import.meta.url));

async function load() {
  if (!existsSync(SIZES_MODULE)) return null;
  return import(pathToFileURL(SIZES_MODULE).href);
}

export async function run(ctx) {
  const mod = await load();
  if (!mod) return { skipped: 'bench/sizes.mjs does not exist yet' };
  const measure = [mod.default, mod.measureSizes, mod.sizes, mod.run].find((f) => typeof f === 'function');
  if (!measure) return { skipped: 'bench/sizes.mjs exports no measuring function' };
  return { result: await measure({ quick: ctx.quick, buildDir: ctx.buildDir }) };
}

// Plain rendering of whatever shape the result has.
function describe(value, indent = '') {
  if (value === null || typeof value !== 'object') return [`${indent}${value}`];
  const lines = [];
  for (const [key, v] of Object.entries(value)) {
    if (v !== null && typeof v === 'object') lines.push(`${indent}${key}:`, ...describe(v, `${indent}  `));
    else lines.push(`${indent}${key}: ${v}`);
  }
  return lines;
}

export async function format(data) {
  if (data.skipped) return `(skipped: ${data.skipped})`;
  const mod = await load();
  const formatter = mod && [mod.format, mod.formatSizes].find((f) => typeof f === 'function');
  if (formatter) return String(await formatter(data.result));
  return describe(data.result).join('\n');
}
