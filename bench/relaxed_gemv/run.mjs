// node bench/relaxed_gemv/run.mjs: builds kernels.wasm with clang-19 (apt-get
// install clang-19 lld-19) and times both GEMV loops in Chromium. Prints
// medians, GB/s of weights and the ratio. Not part of `npm run bench`: the
// library has no relaxed SIMD path yet (README.md).
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { launchChromium } from '../../tests/browser/chromium.mjs';
import { startServer } from '../../tests/browser/server.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const out = path.join(here, '..', '..', 'build', 'relaxed_gemv');
try {
  execFileSync('mkdir', ['-p', out]);
  execFileSync('clang-19', ['--target=wasm32', '-O3', '-msimd128', '-mrelaxed-simd', '-mbulk-memory', '-nostdlib',
    '-fno-exceptions', '-c', path.join(here, 'kernels.cpp'), '-o', path.join(out, 'kernels.o')]);
  execFileSync('wasm-ld-19', ['--no-entry', '--export=plain_gemv', '--export=relaxed_gemv', '--export=relaxed_ref',
    '--export=__heap_base', '--initial-memory=201326592', '--max-memory=201326592', path.join(out, 'kernels.o'),
    '-o', path.join(out, 'kernels.wasm')]);
} catch (e) {
  console.error(`building kernels.wasm failed (${e.message.split('\n')[0]}); it needs clang-19 and lld-19 (apt-get install clang-19 lld-19)`);
  process.exit(1);
}
const server = await startServer({ root: here, mounts: { '/kernels.wasm': path.join(out, 'kernels.wasm') } });
const browser = await launchChromium();
try {
  const page = await browser.newPage();
  await page.goto(`${server.url.replace(/\/$/, '')}/page.html`);
  await page.waitForFunction(() => window.experimentReady);
  for (const [where, poolMiB] of [['weights cycling through 64 MiB', 64], ['one copy of the weights, from cache', 0]]) {
    const r = await page.evaluate((o) => window.runExperiment(o), { poolMiB });
    const gbs = (ms) => (r.matBytes / 1e6 / ms).toFixed(2);
    console.log(`Chromium, one thread, ${r.K}×${r.N} Q4_0 W4A8 GEMV, ${where} (medians):`);
    console.log(`  dot_i16x8 (as shipped)   ${r.plainMs.toFixed(4)} ms  ${gbs(r.plainMs)} GB/s`);
    console.log(`  relaxed i8 dot           ${r.relaxedMs.toFixed(4)} ms  ${gbs(r.relaxedMs)} GB/s`);
    console.log(`  relaxed ÷ shipped speed: ${(r.plainMs / r.relaxedMs).toFixed(2)}×; relaxed vs its scalar reference: worst relative error ${r.worstRelativeError}`);
  }
} finally {
  await browser.close();
  await server.close();
}
