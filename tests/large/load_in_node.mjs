// Child process of large_model.test.mjs: in a Node process of its own (so
// its peak RSS is this load's), tries the model at argv[2] as f32 (which
// must fail before allocating), then loads it as it is and generates.
// Prints one JSON line: the error, byte counts and times.
//   node tests/large/load_in_node.mjs <model.gguf> <dist folder>
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const [file, dist] = process.argv.slice(2);
const nibble = await import(pathToFileURL(join(dist, 'nibble.mjs')).href);
const d = nibble._debug;
const { flavour } = await nibble.init();

// VmRSS (now) and VmHWM (the process's peak so far), in bytes.
function rss() {
  const status = readFileSync('/proc/self/status', 'utf8');
  const kib = (key) => Number(new RegExp(`${key}:\\s+(\\d+) kB`).exec(status)[1]) * 1024;
  return { now: kib('VmRSS'), peak: kib('VmHWM') };
}

const wide = await nibble.loadModel(file, { weights: 'f32' }).then((m) => { m.dispose(); return 'loaded'; }, (e) => e.message);
const before = { rss: rss().now, inUse: d.heapBytesInUse(), mallocPeak: d.heapPeakBytes() };
const t0 = performance.now();
const model = await nibble.loadModel(file);
const loadMs = performance.now() - t0;
const loaded = {
  inUse: d.heapBytesInUse() - before.inUse,
  mallocPeak: d.heapPeakBytes() - before.mallocPeak,
  wasmMemory: d.wasmMemoryBytes(),
  rssPeak: rss().peak - before.rss,
  loadedBytes: model.info.loadedBytes,
};
const { text, stats } = await model.complete('Once upon a time', { maxTokens: 4, temperature: 0 });
model.dispose();
console.log(JSON.stringify({ flavour, wide, loaded, loadMs, text, stats }));
