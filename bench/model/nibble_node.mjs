// nibble's model benchmark in a Node process of its own (the wasm build a
// process loads is fixed at its first nibble call, so sections that compare
// builds must not share one):
//   node bench/model/nibble_node.mjs <model.gguf> [--runs N] [--threads N]   (prints JSON)
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

import { runNibbleModel } from './nibble_run.mjs';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const args = process.argv.slice(2);
const option = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const nibble = await import(pathToFileURL(path.join(repoRoot, 'dist/nibble.mjs')).href);
const result = await runNibbleModel(nibble, path.resolve(args[0]), { runs: option('--runs', 3), threads: option('--threads', undefined) });
console.log(JSON.stringify(result));
