// Platform of the CommonJS build (dist/nibble.cjs), for Node's require():
// the glue modules and the .wasm files sit next to this file (__dirname).
import { isNode } from './loader.mjs';

export const cjsPlatform = {
  async importGlue(flavour) {
    return flavour === 'simd' ? require('./nibble-simd.cjs') : require('./nibble-scalar.cjs');
  },
  defaultDir() {
    return require('node:url').pathToFileURL(`${__dirname}/`).href;
  },
  async node() {
    if (!isNode()) return null;
    return {
      readFile: require('node:fs/promises').readFile,
      pathToFileURL: require('node:url').pathToFileURL,
      resolvePath: require('node:path').resolve,
    };
  },
};
