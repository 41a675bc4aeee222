#!/usr/bin/env node
// The nibble command line: the package's own JS API (dist/nibble.mjs) and
// wasm, run by Node.
//   nibble generate <model> --prompt <text> ...   text to stdout, statistics to stderr
//   nibble chat <model> [--system <text>] ...     an interactive chat (bin/chat_session.mjs)
//   nibble quantize <in> -o <out.gguf> ...        an INT4 GGUF file
//   nibble info <model>                           what a model file holds
//   nibble logits <model> --tokens 1,2,3          the logits at every position
//   nibble eval <model> --text <file> ...         perplexity, KL divergence (bin/quality.mjs)
// Errors print one line (no stack) and exit with code 1.
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import v8 from 'node:v8';
import * as nibble from '../dist/nibble.mjs';
import { runChat } from './chat_session.mjs';
import { CALIBRATION_HELP, CALIBRATION_OPTIONS, QUALITY_COMMANDS, QUALITY_OPTIONS, calibrate, calibrationRequest, progressBar, qualityHelp } from './quality.mjs';

// Node 20 runs relaxed SIMD (the build with the faster GEMV) only behind a V8
// flag; set before the first nibble call loads a build. The loader still runs
// a known relaxed dot product before it picks that build.
if (process.versions.node.split('.')[0] === '20') v8.setFlagsFromString('--experimental-wasm-relaxed-simd');

// The tensor-type table (src/quant/tensor_types.def, via the package): the
// choices of --type and --weights; the first --type is the default.
const QUANT_TYPES = nibble.tensorTypes.filter((t) => t.quantize);
const WEIGHT_TYPES = [...QUANT_TYPES, ...nibble.tensorTypes.filter((t) => t.weights && !t.quantize)];
const DEFAULT_TYPE = QUANT_TYPES[0].name;
// llama-quantize's file types (src/model/quant_mixes.def): quantize's --type.
const MIXES = nibble.quantMixes;
const choices = (types) => types.map((t) => (t.name === DEFAULT_TYPE ? `${t.name} (default)` : t.name)).join(' | ');
const withBits = (types) => types.map((t) => `${t.name} ${t.bitsPerWeight}`).join(', ');

const HELP = {
  main: `nibble ${nibble.version}: INT4 language models in WebAssembly

Usage:
  nibble generate <model> [--tokenizer <file>] --prompt <text> [options]
  nibble chat <model> [--system <text>] [options]
  nibble quantize <in.bin|in.gguf> [--tokenizer <file>] -o <out.gguf> [--type ${MIXES.map((m) => m.name).join('|')}] [--pure] [--clip none|mse] [--imatrix <file>] [--remedy rotate|smooth|smooth+rotate[+lowrank]] [--rank <r>]
  nibble info <model> [--tokenizer <file>] [--tensors] [--json]
  nibble logits <model> [--tokenizer <file>] --tokens <id,id,...> [--top <k>] [--json]
  nibble eval <model> --text <file> [--reference <model>] [--context <n>] [--precision w4a8|w4a32|w4a4] [--json]
  nibble imatrix <model> (--text <file> | --self <n>) -o <imatrix.gguf> [--context <n>]

<model> is a GGUF file (LLaMA architecture; tensor types ${nibble.tensorTypes.map((t) => t.name.toUpperCase()).join(', ')})
or a llama2.c checkpoint (with --tokenizer <tokenizer.bin>), given as a
path or an http(s) URL. Run 'nibble <command> --help' for a command's options.`,

  generate: `Usage: nibble generate <model> [--tokenizer <file>] --prompt <text> [options]

Writes the prompt followed by the generated text to stdout, statistics to stderr.

Options:
  --prompt <text>        the text to continue (default: empty, i.e. only BOS)
  --max-tokens <n>       tokens to generate at most (default 256)
  --temperature <t>      0 = greedy; higher = more random (default 0.8)
  --top-k <k>            sample from the k most likely tokens; 0 = all (default 40)
  --top-p <p>            ... and from the fewest whose probability reaches p (default 0.95)
  --seed <s>             makes sampling reproducible (default: random, printed)
  --stop <text>          stop before this text (repeatable)
  --weights <type>       ${choices(WEIGHT_TYPES)}: how to hold the matrices
  --clip <mode>          none (default) | mse: clipping search when quantizing on load
  --context <n>          KV-cache positions (default: the model's, at most 2048)
  --tokenizer <file>     tokenizer.bin of a llama2.c checkpoint
  --quiet                no statistics on stderr
  -h, --help             this help`,

  chat: `Usage: nibble chat <model> [--system <text>] [options]

An interactive chat in the terminal with a model that has a chat template
(tokenizer.chat_template in its GGUF file, or --template). Type a message and
press Enter; the reply streams in. /reset forgets the conversation, /stats
shows the last reply's statistics, Ctrl-C stops a reply, Ctrl-D exits. Each
turn reuses the cache of the one before (only the new tokens are run).

Options:
  --system <text>        a system prompt
  --template <file>      a Jinja chat template to use instead of the file's
  --stats                statistics after every reply
  --max-tokens <n>       tokens per reply at most (default 512)
  --temperature <t>      0 = greedy; higher = more random (default 0.8)
  --top-k <k>            sample from the k most likely tokens; 0 = all (default 40)
  --top-p <p>            ... and from the fewest whose probability reaches p (default 0.95)
  --seed <s>             makes sampling reproducible
  --weights <type>       ${choices(WEIGHT_TYPES)}: how to hold the matrices
  --context <n>          KV-cache positions (default: the model's, at most 2048); the
                         oldest turns are dropped when the conversation outgrows it
  -h, --help             this help`,

  quantize: `Usage: nibble quantize <in.bin|in.gguf> [--tokenizer <file>] -o <out.gguf> [options]

Loads a model, quantizes its matrices and writes a standard GGUF v3 file (the
tokenizer embedded) that nibble and llama.cpp read. Progress goes to stderr.
--type is one of llama-quantize's file types, and each matrix gets the type
llama-quantize gives it (with --clip none, the same bytes): e.g. q4_0 keeps
the output (or tied token embedding) matrix at q6_k, q4_k_m gives some
attn_v / ffn_down layers q6_k; a row length the type's blocks cannot tile
falls back as in llama.cpp (q4_k -> q5_0, q5_k -> q5_1, q6_k -> q8_0), or
to f32 where llama.cpp has no fallback. Matrices already of a type nibble
runs keep their type.

Options:
  -o, --output <file>    the GGUF file to write (required)
  --type <type>          ${MIXES.map((m) => (m.name === MIXES[0].name ? `${m.name} (default)` : m.name)).join(' | ')}
                         (q4_k, q5_k: llama-quantize's names for q4_k_m, q5_k_m)
  --pure                 every matrix the type's base type, as llama-quantize --pure
                         (bits/weight: ${withBits(QUANT_TYPES)})
  --clip <mode>          none (default, round-to-nearest) | mse (clipping search of q4_0 / q4_1 blocks)
  --imatrix <file>       an importance matrix (nibble imatrix, llama-imatrix): q4_0, q4_1,
                         q5_0, q5_1, iq4_nl, q4_k, q5_k and q6_k matrices follow
                         llama-quantize --imatrix
${CALIBRATION_HELP}
  --remedy <r>           none (default) | rotate | smooth | smooth+rotate: W4A4's remedies for
                         outlier activations folded into the weights (F32/F16 input; smooth
                         takes its statistics from --imatrix, which still weights the
                         matrices whose inputs are not rotated; with --method gptq, from
                         the calibration data); nibble eval --precision w4a4 shows what
                         they buy; + lowrank (e.g. smooth+rotate+lowrank): W4A4 inputs also
                         lose their top --rank principal directions before rounding, kept in
                         float (directions from --calibrate / --self; with --imatrix that
                         text gives only the directions)
  --rank <r>             the low-rank remedy's directions per matrix input (default 4)
  --tokenizer <file>     tokenizer.bin of a llama2.c checkpoint
  -h, --help             this help`,

  info: `Usage: nibble info <model> [--tokenizer <file>] [options]

Prints what a model file holds: format, hyperparameters, tokenizer, tensor
types, the sizes in the file and in memory, and which matrices fall back to
a wider type when loaded as INT4.

Options:
  --weights <type>       ${choices(WEIGHT_TYPES)}: load as (for sizes and fallbacks)
  --tensors              list every tensor with its shape and types
  --json                 print everything as JSON
  --tokenizer <file>     tokenizer.bin of a llama2.c checkpoint
  -h, --help             this help`,

  logits: `Usage: nibble logits <model> [--tokenizer <file>] --tokens <id,id,...> [options]

Runs the token ids through the model from an empty cache and prints, for each
position, the most likely next tokens with their logits; --json prints every
logit instead: { "tokens": [...], "vocabSize": n, "logits": [[n values] per position] }.

Options:
  --tokens <ids>         token ids, separated by commas (required)
  --top <k>              tokens listed per position (default 5)
  --json                 print all the logits as JSON
  --weights <type>       ${choices(WEIGHT_TYPES)}: how to hold the matrices
  --precision <p>        ${nibble.optionChoices.precision.map((p, i) => (i === 0 ? `${p} (default)` : p)).join(' | ')}: int8, f32 or signed 4-bit activations
  --batch <n>            tokens per forward step (default 64; 1: one at a time, as generation)
  --context <n>          positions the model may take (default: the model's, at most 2048)
  --tokenizer <file>     tokenizer.bin of a llama2.c checkpoint
  -h, --help             this help`,
  ...qualityHelp(choices(WEIGHT_TYPES)),
};

const COMMON = { tokenizer: { type: 'string' }, help: { type: 'boolean', short: 'h' } };
const SAMPLING = {
  'max-tokens': { type: 'string' },
  temperature: { type: 'string' },
  'top-k': { type: 'string' },
  'top-p': { type: 'string' },
  seed: { type: 'string' },
  weights: { type: 'string' },
  context: { type: 'string' },
};
const OPTIONS = {
  generate: {
    ...COMMON,
    ...SAMPLING,
    prompt: { type: 'string' },
    stop: { type: 'string', multiple: true },
    clip: { type: 'string' },
    quiet: { type: 'boolean' },
  },
  chat: { help: COMMON.help, ...SAMPLING, system: { type: 'string' }, template: { type: 'string' }, stats: { type: 'boolean' } },
  quantize: { ...COMMON, output: { type: 'string', short: 'o' }, type: { type: 'string' }, pure: { type: 'boolean' }, clip: { type: 'string' }, imatrix: { type: 'string' }, remedy: { type: 'string' }, rank: { type: 'string' }, ...CALIBRATION_OPTIONS },
  info: { ...COMMON, weights: { type: 'string' }, tensors: { type: 'boolean' }, json: { type: 'boolean' } },
  logits: {
    ...COMMON,
    tokens: { type: 'string' },
    top: { type: 'string' },
    json: { type: 'boolean' },
    weights: { type: 'string' },
    precision: { type: 'string' },
    batch: { type: 'string' },
    context: { type: 'string' },
  },
  ...Object.fromEntries(Object.entries(QUALITY_OPTIONS).map(([name, options]) => [name, { ...COMMON, ...options }])),
};

// A mistake the user can fix: printed as one line, exit code 1.
class UsageError extends Error {}

function fail(message) {
  throw new UsageError(message);
}

const number = (n) => n.toLocaleString('en-US');
const mb = (bytes) => `${(bytes / 1e6).toFixed(bytes < 1e7 ? 2 : 1)} MB`;

function integerOption(values, name, min, max) {
  const text = values[name];
  if (text === undefined) return undefined;
  const n = Number(text);
  if (text.trim() === '' || !Number.isInteger(n) || n < min || n > max) {
    fail(`--${name} must be a whole number from ${min} to ${max}, got '${text}'`);
  }
  return n;
}

function numberOption(values, name, ok, range) {
  const text = values[name];
  if (text === undefined) return undefined;
  const n = Number(text);
  if (text.trim() === '' || !ok(n)) fail(`--${name} must be ${range}, got '${text}'`);
  return n;
}

function choiceOption(values, name, choices, fallback) {
  const value = values[name] ?? fallback;
  if (!choices.includes(value)) fail(`--${name} must be ${choices.join(' or ')}, got '${value}'`);
  return value;
}

function oneModel(positionals, command) {
  if (positionals.length === 0) fail(`which model? usage: nibble ${command} <model> ... (see nibble ${command} --help)`);
  if (positionals.length > 1) fail(`one model file, please; got ${positionals.map((p) => `'${p}'`).join(', ')} (quote a prompt with spaces: --prompt "...")`);
  return positionals[0];
}

// Load progress on stderr: a line redrawn in place on a terminal, else a
// line every 10 %.
function progressReporter(label, enabled) {
  if (!enabled) return undefined;
  const tty = process.stderr.isTTY;
  let shown = -1;
  return ({ status, fraction }) => {
    const percent = Math.floor(fraction * 100);
    if (status === 'ready') {
      if (tty) process.stderr.write(`\r\x1b[K`);
      return;
    }
    if (tty) {
      if (percent !== shown) process.stderr.write(`\r\x1b[K${status === 'download' ? 'downloading' : 'loading'} ${label}: ${percent}%`);
      shown = percent;
    } else if (Math.floor(percent / 10) > Math.floor(shown / 10)) {
      shown = percent;
      process.stderr.write(`${status === 'download' ? 'downloading' : 'loading'} ${label}: ${percent}%\n`);
    }
  };
}

// held: { weights } or { mix, pure } (loadModel's options).
async function load(path, values, held, clip, progress, extra = {}) {
  const t0 = performance.now();
  const model = await nibble.loadModel(path, {
    ...held,
    clip,
    tokenizer: values.tokenizer,
    onProgress: progress,
    ...extra,
  });
  return { model, loadMs: performance.now() - t0 };
}

// ---------------------------------------------------------------------------

// The options of SAMPLING: generate() options, and how to load.
function samplingOptions(values, maxTokens) {
  return {
    options: {
      maxTokens: integerOption(values, 'max-tokens', 0, 2 ** 31 - 1) ?? maxTokens,
      temperature: numberOption(values, 'temperature', (t) => Number.isFinite(t) && t >= 0, 'a number ≥ 0') ?? 0.8,
      topK: integerOption(values, 'top-k', 0, 2 ** 31 - 1),
      topP: numberOption(values, 'top-p', (p) => p > 0 && p <= 1, 'a number in (0, 1]'),
      seed: integerOption(values, 'seed', 0, Number.MAX_SAFE_INTEGER),
    },
    weights: choiceOption(values, 'weights', WEIGHT_TYPES.map((t) => t.name), DEFAULT_TYPE),
    context: integerOption(values, 'context', 1, 2 ** 31 - 1),
  };
}

async function generate(values, positionals) {
  const path = oneModel(positionals, 'generate');
  const { options, weights, context } = samplingOptions(values, 256);
  options.stop = values.stop;
  const clip = choiceOption(values, 'clip', nibble.optionChoices.clip, 'none');
  const prompt = values.prompt ?? '';
  const quiet = values.quiet === true;
  // Load progress only on a terminal: stderr may be read by a program.
  const progress = progressReporter(path, !quiet && process.stderr.isTTY);
  const { model, loadMs } = await load(path, values, { weights }, clip, progress, context ? { context } : {});
  try {
    process.stdout.write(prompt);
    const run = model.generate(prompt, options);
    for await (const piece of run) process.stdout.write(piece);
    process.stdout.write('\n');
    const s = await run.stats;
    if (!quiet) {
      const info = model.info;
      process.stderr.write(
        `\nnibble: ${info.weightType} weights (file: ${info.fileWeightType}), loaded in ${loadMs.toFixed(0)} ms\n` +
        `  prompt: ${s.promptTokens} tokens in ${s.promptMs.toFixed(1)} ms (${s.promptTokensPerSecond.toFixed(1)} tokens/s)\n` +
        `  generated: ${s.generatedTokens} tokens in ${s.generateMs.toFixed(1)} ms (${s.tokensPerSecond.toFixed(1)} tokens/s)\n` +
        `  stopped: ${s.stopReason}; seed ${s.seed}\n` +
        (s.ttftMs === null ? '' : `  first token after ${s.ttftMs.toFixed(1)} ms\n`));
    }
  } finally {
    model.dispose();
  }
}

async function chat(values, positionals) {
  const path = oneModel(positionals, 'chat');
  const { options, weights, context } = samplingOptions(values, 512);
  const template = values.template === undefined ? undefined : readInput(values.template, 'utf8');
  const { model } = await load(path, values, { weights }, 'none', progressReporter(path, process.stderr.isTTY), context ? { context } : {});
  try {
    if (template === undefined && model.tokenizer.chatTemplate === null) {
      fail(`${path} has no chat template (tokenizer.chat_template); give one with --template <file>, or use nibble generate`);
    }
    await runChat(model, { ...options, template, truncate: 'oldest', system: values.system, showStats: values.stats === true });
  } finally {
    model.dispose();
  }
}

async function quantize(values, positionals) {
  const path = oneModel(positionals, 'quantize');
  const output = values.output;
  if (!output) fail('where to? give the output file with -o <out.gguf>');
  const folder = dirname(resolve(output));
  if (!existsSync(folder) || !statSync(folder).isDirectory()) fail(`cannot write '${output}': no folder ${folder}`);
  const name = choiceOption(values, 'type', MIXES.map((m) => m.name), MIXES[0].name);
  const mix = MIXES.find((m) => m.name === name);
  const clip = choiceOption(values, 'clip', nibble.optionChoices.clip, 'none');
  const held = { mix: name, pure: Boolean(values.pure) };
  // '+lowrank' (or 'lowrank'): W4A4's low-rank remedy, its directions from
  // the calibration data, after the others (nibble.lowRankRemedy).
  const asked = values.remedy ?? 'none';
  const lowRank = asked === 'lowrank' || asked.endsWith('+lowrank');
  if (lowRank) values = { ...values, remedy: asked === 'lowrank' ? 'none' : asked.slice(0, -'+lowrank'.length) };
  const rank = integerOption(values, 'rank', 1, 64);
  if (rank !== undefined && !lowRank) fail('--rank is the rank of --remedy ...+lowrank');
  const calibration = calibrationRequest(CLI, values);
  if (lowRank && !calibration) fail(`--remedy ${asked} takes its directions from calibration data: give --calibrate <file> or --self <n>`);
  // With --imatrix, the calibration data serves the low-rank directions only.
  const directionsOnly = lowRank && values.imatrix !== undefined;
  if (directionsOnly && values.method !== undefined) fail('with --imatrix, --calibrate / --self only give the low-rank directions: no --method');
  if (calibration && values.imatrix !== undefined && !directionsOnly) fail('give either --imatrix or calibration data, not both');
  const remedy = choiceOption(values, 'remedy', nibble.optionChoices.remedy, 'none');
  const finish = async (model) => {  // the file's bytes, with the low-rank bases when asked
    if (!lowRank) return model.toGguf();
    const bar = progressBar(`low-rank directions ${path}`);
    const { text, self, seed, context } = calibration;
    const r = await nibble.lowRankRemedy(model, text, { rank, context, self, seed, onProgress: (p) => bar.update(p.fraction, `${p.window}/${p.windows} windows`) });
    bar.done();
    process.stderr.write(`  W4A4 low-rank remedy: rank ${r.rank}, from ${r.windows} windows of ${r.context} tokens of ${calibration.source}\n`);
    return r.bytes;
  };
  if (calibration?.method === 'gptq' && !directionsOnly) {
    if (!values.pure || !['q4_0', 'iq4_nl'].includes(mix.base)) fail('--method gptq writes --pure q4_0 or iq4_nl files');
    // GPTQ on the remedied float weights: smoothing's statistics from the
    // same calibration text first.
    const importance = remedy.includes('smooth') ? { importance: await calibrate(CLI, values, path, { ...calibration, method: 'imatrix' }) } : {};
    if (remedy !== 'none') process.stderr.write(`  W4A4 remedy folded into the weights before GPTQ: ${remedy}\n`);
    const bytes = await calibrate(CLI, values, path, calibration, mix.base, remedy === 'none' ? {} : { remedy, ...importance });
    if (!lowRank) return writeQuantized(output, bytes, null);
    const model = await nibble.loadModel(bytes, { weights: mix.base, ...(calibration.context ? { context: calibration.context } : {}) });
    try {
      return writeQuantized(output, await finish(model), null);
    } finally {
      model.dispose();
    }
  }
  const imatrix = calibration && !directionsOnly ? await calibrate(CLI, values, path, calibration) : values.imatrix && readInput(values.imatrix);
  if (remedy.includes('smooth') && !imatrix) fail(`--remedy ${remedy} smooths by calibration data: give --imatrix <file>`);
  const importance = imatrix ? { importance: imatrix } : {};
  const extra = remedy === 'none' ? importance : { ...importance, remedy };
  const { model, loadMs } = await load(path, values, held, clip, progressReporter(path, true), extra);
  try {
    const info = model.info;
    if (imatrix) process.stderr.write(`  ${info.importanceMatrices} matrices weighted by ${values.imatrix ?? 'the calibration'}\n`);
    if (remedy !== 'none') process.stderr.write(`  W4A4 remedy folded into the weights: ${remedy}\n`);
    const as = values.pure ? mix.base : `${name} (${info.weightType} matrices)`;
    process.stderr.write(`quantized ${path} to ${as} in ${(loadMs / 1000).toFixed(1)} s\n`);
    for (const f of info.fallbacks) process.stderr.write(`  ${f.tensor} falls back to ${f.type}: ${f.reason}\n`);
    const fileType = nibble.tensorTypes.find((t) => t.name === info.fileWeightType);
    if (values.pure && info.weightType !== mix.base && fileType?.blockSize !== 1) {  // not widened from f32/f16: kept
      process.stderr.write(`  note: matrices stored as ${info.fileWeightType} in the file were kept as they are\n`);
    }
    writeQuantized(output, await finish(model), info.fp32Bytes);
  } finally {
    model.dispose();
  }
}

function writeQuantized(output, bytes, fp32Bytes) {
  process.stderr.write(`writing ${output}\n`);
  writeOutput(output, bytes);
  const f32 = fp32Bytes ? `; f32 would be ${mb(fp32Bytes)}, ${(fp32Bytes / bytes.byteLength).toFixed(2)}× larger` : '';
  process.stderr.write(`wrote ${output}: ${number(bytes.byteLength)} bytes (${mb(bytes.byteLength)}${f32})\n`);
}

async function info(values, positionals) {
  const path = oneModel(positionals, 'info');
  const weights = choiceOption(values, 'weights', WEIGHT_TYPES.map((t) => t.name), DEFAULT_TYPE);
  const { model } = await load(path, values, { weights }, 'none', undefined, { fileTensors: true });
  const i = model.info;
  model.dispose();
  if (values.json) {
    process.stdout.write(`${JSON.stringify({ file: path, ...i }, null, 2)}\n`);
    return;
  }
  const c = i.config;
  const counts = (key) => {
    const n = new Map();
    for (const t of i.tensors) n.set(t[key], (n.get(t[key]) ?? 0) + 1);
    return [...n].map(([type, count]) => `${type} ×${count}`).join(', ');
  };
  const lines = [
    ['file', `${path} (${number(i.fileBytes)} bytes)`],
    ['format', `${i.format === 'gguf' ? 'GGUF' : 'llama2.c checkpoint'}, architecture ${i.architecture}${i.name ? `, "${i.name}"` : ''}`],
    ['layers', `${c.layers}, dim ${c.dim}, feed-forward ${c.hiddenDim}, heads ${c.heads} (KV heads ${c.kvHeads}, head dim ${c.headDim})`],
    ['rope', `dims ${c.ropeDim}, base ${c.ropeTheta}; RMSNorm eps ${c.rmsEps.toExponential()}`],
    ['context', `${number(c.contextLength)} positions`],
    ['tokenizer', `${i.tokenizer === 'gpt2' ? 'gpt2 (byte-level BPE)' : 'llama (SentencePiece-style BPE)'}, ${number(i.vocabSize)} tokens, BOS ${i.bos}, EOS ${i.eos}`],
    ['output', i.tiedOutput ? 'shares the token embedding matrix' : 'its own matrix (output.weight)'],
    ['W4A4 remedy', i.remedy === 'none' ? 'none' : `${i.remedy} (folded into the weights${i.remedy.includes('rotate') ? '; inputs rotated at run time' : ''}${i.remedy.includes('shift') ? '; inputs shifted by their channel means before rounding' : ''}${i.lowRank ? `; W4A4 inputs lose ${i.lowRank} directions before rounding` : ''})`],
    ['parameters', `${number(i.parameters)} (${mb(i.fp32Bytes)} as f32)`],
    ['in the file', `${i.fileWeightType} matrices; tensors: ${counts('fileType')}`],
    ['loaded as', `${i.weightType} matrices, ${mb(i.loadedBytes)} in memory (${(i.fp32Bytes / i.loadedBytes).toFixed(2)}× smaller than f32); tensors: ${counts('type')}`],
    ['fallbacks', i.fallbacks.length === 0 ? 'none' : `${i.fallbacks.length} matrices stay wider:`],
  ];
  const width = Math.max(...lines.map(([k]) => k.length));
  let text = lines.map(([k, v]) => `${k.padEnd(width)}  ${v}\n`).join('');
  for (const f of i.fallbacks) text += `${''.padEnd(width)}    ${f.tensor} -> ${f.type}: ${f.reason}\n`;
  if (values.tensors) {
    const nameWidth = Math.max(...i.tensors.map((t) => t.name.length));
    text += '\ntensors (shape with the row length first, as GGUF; type in the file -> loaded):\n';
    for (const t of i.tensors) {
      text += `  ${t.name.padEnd(nameWidth)}  ${`[${t.shape.join(', ')}]`.padEnd(14)}  ${t.fileType} -> ${t.type}\n`;
    }
  }
  process.stdout.write(text);
}

// A file's bytes (or, with an encoding, its text); a clear failure otherwise.
function readInput(path, encoding) {
  try {
    return readFileSync(path, encoding);
  } catch (e) {
    return fail(`cannot read '${path}': ${e.code === 'ENOENT' ? 'no such file' : e.code ?? e.message}`);
  }
}

function writeOutput(path, bytes) {
  try {
    writeFileSync(path, bytes);
  } catch (e) {
    fail(`cannot write '${path}': ${e.code === 'ENOENT' ? 'no such folder' : e.code ?? e.message}`);
  }
}

// '1,2, 3' -> [1, 2, 3]; the model checks that they are in its vocabulary.
function tokensOption(values) {
  const text = values.tokens;
  if (text === undefined) fail('which tokens? give their ids with --tokens 1,2,3');
  const ids = text.split(',').map((t) => t.trim());
  if (!ids.every((t) => /^\d+$/.test(t))) fail(`--tokens must be token ids separated by commas, such as 1,403,407; got '${text}'`);
  return ids.map(Number);
}

async function logits(values, positionals) {
  const path = oneModel(positionals, 'logits');
  const tokens = tokensOption(values);
  const top = integerOption(values, 'top', 1, 2 ** 31 - 1) ?? 5;
  const weights = choiceOption(values, 'weights', WEIGHT_TYPES.map((t) => t.name), DEFAULT_TYPE);
  const precision = choiceOption(values, 'precision', nibble.optionChoices.precision, 'w4a8');
  const batch = integerOption(values, 'batch', 1, 2 ** 31 - 1);
  const context = integerOption(values, 'context', 1, 2 ** 31 - 1);
  const { model } = await load(path, values, { weights }, 'none', undefined, context ? { context } : {});
  try {
    const all = model.logits(tokens, { precision, batch });
    const vocab = model.info.vocabSize;
    const rows = tokens.map((_, i) => all.subarray(i * vocab, (i + 1) * vocab));
    if (values.json) {
      process.stdout.write(`${JSON.stringify({ file: path, tokens, vocabSize: vocab, weights: model.info.weightType, precision, logits: rows.map((r) => Array.from(r)) })}\n`);
      return;
    }
    const piece = (id) => JSON.stringify(model.detokenize([id]));
    let text = '';
    rows.forEach((row, i) => {
      text += `position ${i}, after ${tokens[i]} ${piece(tokens[i])}:\n`;
      const best = Array.from(row.keys()).sort((a, b) => row[b] - row[a] || a - b).slice(0, top);
      for (const id of best) text += `  ${String(id).padStart(6)}  ${row[id].toFixed(4).padStart(9)}  ${piece(id)}\n`;
    });
    process.stdout.write(text);
  } finally {
    model.dispose();
  }
}

// ---------------------------------------------------------------------------

// What the commands of bin/quality.mjs use of this file.
const CLI = { fail, oneModel, integerOption, choiceOption, load, readInput, writeOutput, weightTypes: WEIGHT_TYPES, defaultType: DEFAULT_TYPE };
const COMMANDS = {
  generate, chat, quantize, info, logits,
  ...Object.fromEntries(Object.entries(QUALITY_COMMANDS).map(([name, run]) => [name, (values, positionals) => run(CLI, values, positionals)])),
};

async function main(argv) {
  const [command, ...rest] = argv;
  if (command === undefined || command === '-h' || command === '--help' || command === 'help') {
    process.stdout.write(`${HELP.main}\n`);
    return;
  }
  if (command === '--version' || command === '-v') {
    process.stdout.write(`${nibble.version}\n`);
    return;
  }
  if (!COMMANDS[command]) fail(`unknown command '${command}'; the commands are ${Object.keys(COMMANDS).join(', ')} (see nibble --help)`);
  let parsed;
  try {
    parsed = parseArgs({ args: rest, options: OPTIONS[command], allowPositionals: true, strict: true });
  } catch (e) {
    const ambiguous = /^Option '(--[\w-]+)' argument is ambiguous/.exec(e.message);
    if (ambiguous) fail(`${ambiguous[1]} needs a value; write a value that starts with '-' as ${ambiguous[1]}=-1`);
    // parseArgs explains over several lines; keep its first sentence.
    fail(`${e.message.split('\n')[0].replace(/\. To specify a positional argument.*$/, '')} (see nibble ${command} --help)`);
  }
  if (parsed.values.help) {
    process.stdout.write(`${HELP[command]}\n`);
    return;
  }
  await COMMANDS[command](parsed.values, parsed.positionals);
}

process.stdout.on('error', (e) => {
  if (e.code === 'EPIPE') process.exit(0); // the reader went away (e.g. | head)
  throw e;
});

main(process.argv.slice(2)).catch((e) => {
  const command = COMMANDS[process.argv[2]] ? ` ${process.argv[2]}` : '';
  const known = e instanceof UsageError || /^nibble\./.test(e?.message ?? '') || e?.name === 'AbortError';
  const message = known
    ? e.message.replace(/^nibble\.[\w.]+: /, '').replace(/; pass it as loadModel\(source, \{ tokenizer: .*?\}\)/, '; pass it with --tokenizer <tokenizer.bin>')
      .replace(/options\.context/g, '--context')
    : (e?.stack ?? String(e));
  process.stderr.write(`nibble${command}: ${message}\n`);
  process.exitCode = 1;
});
