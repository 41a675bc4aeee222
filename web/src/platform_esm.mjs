// Platform of the ES module build (dist/nibble.mjs), for browsers, bundlers
// and Node: the glue modules and the .wasm files sit next to this file.
import { isNode } from './loader.mjs';

export const esmPlatform = {
  importGlue(flavour) {
    // Two literal imports, so bundlers can see (and split) both.
    const glue = flavour === 'simd' ? import('./nibble-simd.mjs') : import('./nibble-scalar.mjs');
    return glue.then((m) => m.default);
  },
  defaultDir() {
    return new URL('./', import.meta.url).href;
  },
  async node() {
    if (!isNode()) return null;
    const [fs, url, path] = await Promise.all(['fs/promises', 'url', 'path'].map(importNodeBuiltin));
    return { readFile: fs.readFile, pathToFileURL: url.pathToFileURL, resolvePath: path.resolve };
  },
};

// A Node built-in, imported by a computed name so that bundlers targeting
// browsers (esbuild, webpack, vite) leave it alone: it only runs in Node.
function importNodeBuiltin(name) {
  return import(/* webpackIgnore: true */ /* @vite-ignore */ `node:${name}`);
}
