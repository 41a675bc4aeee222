// nibble's model benchmark in a Node process of its own (the wasm build a
// process loads is fixed at its first nibble call, so sections that compare
// builds must not share one):
//   node bench/model/nibble_node.mjs <model.gguf> [--runs N] [--threads N] [--simd auto|relaxed|true]
//     [--prompts 64,512] [--weights q4_0] [--compare-precision w4a4] [--dist DIR]
//   (prints JSON; DIR: the package's folder, default dist/; without --weights the file's types stay)
// Node 20 runs relaxed SIMD only with --experimental-wasm-relaxed-simd.
// CPU-time rates: the main thread's (Linux schedstat), else the process's.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

import { runNibbleModel } from './nibble_run.mjs';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const args = process.argv.slice(2);
const option = (name, fallback, parse = Number) => {
  const i = args.indexOf(name);
  return i >= 0 ? parse(args[i + 1]) : fallback;
};
const simd = option('--simd', undefined, (v) => (v === 'true' ? true : v));
const dist = option('--dist', path.join(repoRoot, 'dist'), (v) => path.resolve(v));
const promptTokens = option('--prompts', [64], (v) => v.split(',').map(Number));
// The CPU ms of this process's main thread, where one-thread nibble runs:
// Linux's per-thread schedstat (ns on the CPU), so that V8's background
// threads (wasm tier-up compiles, GC) are not counted; elsewhere the
// process's CPU time.
const schedstat = `/proc/self/task/${process.pid}/schedstat`;
const mainThreadCpuMs = existsSync(schedstat)
  ? async () => Number(readFileSync(schedstat, 'utf8').split(' ')[0]) / 1e6
  : async () => {
    const { user, system } = process.cpuUsage();
    return (user + system) / 1000;
  };
const nibble = await import(pathToFileURL(path.join(dist, 'nibble.mjs')).href);
const result = await runNibbleModel(nibble, path.resolve(args[0]), {
  runs: option('--runs', 3), threads: option('--threads', undefined), simd, promptTokens,
  weights: option('--weights', undefined, String),
  comparePrecision: option('--compare-precision', undefined, String),
  cpuClock: mainThreadCpuMs,
});
console.log(JSON.stringify(result));
