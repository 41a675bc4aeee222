// Platform of the ES module build (dist/nibble.mjs), for browsers, bundlers
// and Node: the glue modules and the .wasm files sit next to this file.
import { cpuCount, isNode } from './wasm_module.mjs';

export const esmPlatform = {
  importGlue(flavour) {
    // Literal imports, so bundlers can see (and split) each.
    const glue = flavour === 'simd-threads' ? import('./nibble-simd-threads.mjs')
      : flavour === 'simd-relaxed-threads' ? import('./nibble-simd-relaxed-threads.mjs')
        : flavour === 'simd-relaxed' ? import('./nibble-simd-relaxed.mjs')
          : flavour === 'simd-relaxed-tools' ? import('./nibble-simd-relaxed-tools.mjs')
            : flavour === 'simd-tools' ? import('./nibble-simd-tools.mjs')
              : flavour === 'simd' ? import('./nibble-simd.mjs') : import('./nibble-scalar.mjs');
    return glue.then((m) => m.default);
  },
  importChat() {
    return import('./nibble-chat.mjs');
  },
  importQuality() {
    return import('./nibble-quality.mjs');
  },
  importWorkerClient() {
    return import('./nibble-worker-client.mjs');
  },
  importCache() {
    return import('./nibble-cache.mjs');
  },
  defaultDir() {
    return new URL('./', import.meta.url).href;
  },
  async node() {
    if (!isNode()) return null;
    const [fs, url, path, threads, os] = await Promise.all(
      ['fs/promises', 'url', 'path', 'worker_threads', 'os'].map(importNodeBuiltin));
    return {
      readFile: fs.readFile,
      open: fs.open,
      pathToFileURL: url.pathToFileURL,
      fileURLToPath: url.fileURLToPath,
      resolvePath: path.resolve,
      Worker: threads.Worker, // threads build: pthread workers
      cpuCount: cpuCount(os),
    };
  },
};

// A Node built-in, imported by a computed name so that bundlers targeting
// browsers (esbuild, webpack, vite) leave it alone: it only runs in Node.
function importNodeBuiltin(name) {
  return import(/* webpackIgnore: true */ /* @vite-ignore */ `node:${name}`);
}
