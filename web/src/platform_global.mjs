// Platform of the script-tag build (dist/nibble.global.js): the glue ES
// modules and the .wasm files sit next to the script, found from its src.
// The script's URL must be read while it runs, so it is taken here, at load.
const scriptUrl = (typeof document !== 'undefined' && document.currentScript?.src) ||
  globalThis.location?.href || '';

export const globalPlatform = {
  importGlue(flavour) {
    return import(new URL(`nibble-${flavour}.mjs`, scriptUrl).href).then((m) => m.default);
  },
  importChat() {
    return import(new URL('nibble-chat.mjs', scriptUrl).href);
  },
  importQuality() {
    return import(new URL('nibble-quality.mjs', scriptUrl).href);
  },
  importWorkerClient() {
    return import(new URL('nibble-worker-client.mjs', scriptUrl).href);
  },
  importCache() {
    return import(new URL('nibble-cache.mjs', scriptUrl).href);
  },
  defaultDir() {
    return new URL('./', scriptUrl).href;
  },
  async node() {
    return null;
  },
};
