// npm run bench: every benchmark section, one run, medians and ratios.
//
//   node bench/run.mjs [--json out.json] [--quick] [--only matmul,sizes] [--models qwen2.5-0.5b-q4_k_m,...] [--rounds N]
//
// --rounds: rounds of the model and threads sections (default 5; --quick: 1).
// --models: the model section's models by id (bench/model/bench_models.mjs; default all).
// nibble's binaries come from $NIBBLE_BUILD_DIR (default build/wasm-simd).
// A section is a module in bench/sections/ exporting
//   name, title, async run(ctx) -> data (plain JSON), format(data) -> text
// and is listed in SECTIONS below (in run order); new ones (a model
// benchmark, thread scaling) plug in the same way. ctx = { quick, buildDir,
// repoRoot, results (earlier sections' data by name), log, models, rounds }.
import { readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { BENCH_MODELS, selectBenchModels } from './model/bench_models.mjs';
import * as matmul from './sections/matmul.mjs';
import * as model from './sections/model.mjs';
import * as sizes from './sections/sizes.mjs';
import * as threads from './sections/threads.mjs';

// threads runs first: it needs both cores, and run last (after ORT in this
// process and Chromium) its speed-ups came out lower than alone.
const SECTIONS = [threads, matmul, sizes, model];

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

function parseArgs(argv) {
  const options = { json: null, quick: false, only: null, models: null, rounds: null };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--quick') options.quick = true;
    else if (arg === '--json' && i + 1 < argv.length) options.json = argv[++i];
    else if (arg === '--only' && i + 1 < argv.length) options.only = argv[++i].split(',');
    else if (arg === '--models' && i + 1 < argv.length) options.models = argv[++i].split(',');
    else if (arg === '--rounds' && i + 1 < argv.length && Number(argv[i + 1]) >= 1) options.rounds = Math.floor(Number(argv[++i]));
    else if (arg === '--help' || arg === '-h') {
      console.log(`usage: node bench/run.mjs [--json out.json] [--quick] [--only matmul,sizes] [--models ${BENCH_MODELS.map((m) => m.id).join(',')}] [--rounds N]`);
      process.exit(0);
    } else {
      console.error(`unknown option ${arg} (try --help)`);
      process.exit(2);
    }
  }
  return options;
}

function cpuModel() {
  try {
    const line = readFileSync('/proc/cpuinfo', 'utf8').split('\n').find((l) => l.startsWith('model name'));
    if (line) return line.split(':').slice(1).join(':').trim();
  } catch {
    // not Linux: fall back to what Node reports
  }
  return os.cpus()[0]?.model ?? 'unknown CPU';
}

function machine() {
  return {
    cpu: cpuModel(),
    logical_cpus: os.cpus().length,
    memory_gib: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    v8: process.versions.v8,
    platform: `${os.platform()} ${os.release()}`,
    date: new Date().toISOString(),
    load_average_1m: os.loadavg()[0],
  };
}

async function main() {
  const options = parseArgs(process.argv.slice(2));
  const unknown = (options.only ?? []).filter((n) => !SECTIONS.some((s) => s.name === n));
  if (unknown.length) {
    console.error(`unknown section ${unknown.join(', ')}; sections: ${SECTIONS.map((s) => s.name).join(', ')}`);
    process.exit(2);
  }
  if (options.models) {
    try {
      selectBenchModels(options.models);
    } catch (e) {
      console.error(e.message);
      process.exit(2);
    }
  }
  const buildDir = path.resolve(repoRoot, process.env.NIBBLE_BUILD_DIR ?? 'build/wasm-simd');
  const info = machine();
  console.log(`machine: ${info.cpu} (${info.logical_cpus} logical CPUs, ${info.memory_gib} GiB), ` +
    `node ${info.node}, ${info.date}, load ${info.load_average_1m.toFixed(2)}${options.quick ? ', --quick' : ''}`);

  if (info.load_average_1m > 1.5) {
    console.log(`warning: load average ${info.load_average_1m.toFixed(2)} on ${info.logical_cpus} CPUs; other work will skew the timings`);
  }
  const report = { machine: info, quick: options.quick, build_dir: buildDir, sections: {} };
  // results: the data of the sections run so far (e.g. results.matmul.stream_read.gbps).
  const ctx = {
    quick: options.quick, buildDir, repoRoot, results: report.sections, log: (s) => console.error(`  ${s}`), models: options.models,
    rounds: options.rounds ?? undefined,
  };
  let failed = false;
  for (const section of SECTIONS) {
    if (options.only && !options.only.includes(section.name)) continue;
    console.log(`\n== ${section.title} ==`);
    try {
      const data = await section.run(ctx);
      report.sections[section.name] = data;
      console.log(await section.format(data));
    } catch (e) {
      failed = true;
      report.sections[section.name] = { error: String(e.message ?? e) };
      console.log(`failed: ${e.message ?? e}`);
    }
  }
  if (options.json) {
    writeFileSync(options.json, `${JSON.stringify(report, null, 2)}\n`);
    console.log(`\nwrote ${options.json}`);
  }
  process.exitCode = failed ? 1 : 0;
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
