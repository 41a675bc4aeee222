// The C++ bench programs (nibble_bench, nibble_threads_bench), run from the
// JS sections.
import { spawnSync } from 'node:child_process';
import path from 'node:path';

// Node flags for a process that should run relaxed SIMD: Node 20 has it only
// behind a flag (later Nodes have it on).
export const RELAXED_SIMD_NODE_FLAGS = process.versions.node.startsWith('20.') ? ['--experimental-wasm-relaxed-simd'] : [];

// Runs one of the C++ bench programs (an Emscripten .js) in Node with args
// (and extra Node flags); returns its stdout parsed as JSON. Its stderr goes
// to ours.
export function runBenchProgram(file, args, nodeFlags = []) {
  const result = spawnSync(process.execPath, ['--no-experimental-fetch', ...nodeFlags, file, ...args], {
    encoding: 'utf8',
    maxBuffer: 256 << 20,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  if (result.status !== 0) {
    throw new Error(`${path.basename(file, '.js')} ${args.join(' ')} exited with status ${result.status}`);
  }
  return JSON.parse(result.stdout);
}
