// Platform of the CommonJS build (dist/nibble.cjs), for Node's require():
// the glue modules and the .wasm files sit next to this file (__dirname).
import { cpuCount, isNode } from './wasm_module.mjs';

export const cjsPlatform = {
  async importGlue(flavour) {
    if (flavour === 'simd-threads') return require('./nibble-simd-threads.cjs');
    if (flavour === 'simd-relaxed') return require('./nibble-simd-relaxed.cjs');
    if (flavour === 'simd-relaxed-threads') return require('./nibble-simd-relaxed-threads.cjs');
    if (flavour === 'simd-relaxed-tools') return require('./nibble-simd-relaxed-tools.cjs');
    if (flavour === 'simd-tools') return require('./nibble-simd-tools.cjs');
    return flavour === 'simd' ? require('./nibble-simd.cjs') : require('./nibble-scalar.cjs');
  },
  async importChat() {
    return require('./nibble-chat.cjs');
  },
  async importQuality() {
    return require('./nibble-quality.cjs');
  },
  async importWorkerClient() {
    return require('./nibble-worker-client.cjs');
  },
  async importCache() {
    return require('./nibble-cache.cjs');
  },
  defaultDir() {
    return require('node:url').pathToFileURL(`${__dirname}/`).href;
  },
  async node() {
    if (!isNode()) return null;
    return {
      readFile: require('node:fs/promises').readFile,
      open: require('node:fs/promises').open,
      pathToFileURL: require('node:url').pathToFileURL,
      fileURLToPath: require('node:url').fileURLToPath,
      resolvePath: require('node:path').resolve,
      Worker: require('node:worker_threads').Worker, // threads build: pthread workers
      cpuCount: cpuCount(require('node:os')),
    };
  },
};
