// The quality commands of the nibble CLI (bin/nibble.mjs dispatches to them):
//   nibble eval <model> --text <file> [--reference <model>]   perplexity and KL divergence
//   nibble imatrix <model> (--text <file> | --self <n>) -o <file>   an importance matrix
// `cli` carries nibble.mjs's option helpers ({ fail, integerOption,
// choiceOption, load, weightTypes, defaultType }).
import * as nibble from '../dist/nibble.mjs';

const number = (n) => n.toLocaleString('en-US');

export function qualityHelp(weightChoices) {
  return {
    eval: `Usage: nibble eval <model> --text <file> [--reference <model>] [options]

Scores the model on a text as llama.cpp's llama-perplexity does: the text's
tokens (BOS first) are cut into windows of --context tokens, each run from an
empty cache with BOS first, and the second half of each window is scored.
Prints the perplexity; with --reference (a model loaded with f32 weights and
float activations: the same file, or the unquantized one), also the KL
divergence of every scored position from the reference's distribution
(mean, median, 90th/99th percentile, maximum) and how often both agree on
the most likely token, each with llama.cpp's standard errors.

Options:
  --text <file>          the text to score (required)
  --reference <model>    the model to compare against (held as f32)
  --context <n>          tokens per window (default 512, at most the model's context)
  --precision <p>        ${nibble.optionChoices.precision.map((p, i) => (i === 0 ? `${p} (default)` : p)).join(' | ')}: int8, f32 or signed 4-bit activations
  --weights <type>       ${weightChoices}: how to hold the matrices
  --json                 print the figures as JSON
  --tokenizer <file>     tokenizer.bin of a llama2.c checkpoint (both models)
  -h, --help             this help`,

    imatrix: `Usage: nibble imatrix <model> (--text <file> | --self <n>) -o <out.gguf> [options]

Collects an importance matrix as llama.cpp's llama-imatrix does (with
--process-output): for every matrix, the sum of x² of each input column over
every position of the calibration text, and the count of positions. Writes
llama.cpp's imatrix GGUF file, which 'nibble quantize --imatrix' and
llama-quantize --imatrix read. The model runs with f32 weights; the text's
tokens are cut into windows of --context tokens, each from an empty cache
with BOS first.

Options:
  --text <file>          the calibration text (keep it apart from evaluation text)
  --self <n>             or: sample n tokens from the model itself (temperature 1)
  --seed <s>             the seed of --self (default 1)
  -o, --output <file>    the imatrix GGUF file to write (required)
  --context <n>          tokens per window (default 512, at most the model's context)
  --tokenizer <file>     tokenizer.bin of a llama2.c checkpoint
  -h, --help             this help`,
  };
}

export const QUALITY_OPTIONS = {
  eval: {
    text: { type: 'string' },
    reference: { type: 'string' },
    context: { type: 'string' },
    precision: { type: 'string' },
    weights: { type: 'string' },
    json: { type: 'boolean' },
  },
  imatrix: {
    text: { type: 'string' },
    self: { type: 'string' },
    seed: { type: 'string' },
    output: { type: 'string', short: 'o' },
    context: { type: 'string' },
  },
};

function readText(cli, path) {
  if (path === undefined) cli.fail('which text? give it with --text <file>');
  return cli.readInput(path, 'utf8');
}

// --self <n> and its --seed (default 1; only with --self).
function selfSampling(cli, values) {
  const self = cli.integerOption(values, 'self', 2, 2 ** 31 - 1);
  return { self, seed: self === undefined ? undefined : cli.integerOption(values, 'seed', 0, 2 ** 32 - 1) ?? 1 };
}

// A bar redrawn in place on a terminal (nothing elsewhere: stderr may be a log).
export function progressBar(label) {
  if (!process.stderr.isTTY) return { update() {}, done() {} };
  const width = 30;
  return {
    update(fraction, detail) {
      const filled = Math.round(fraction * width);
      process.stderr.write(`\r\x1b[K${label} [${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${detail}`);
    },
    done() {
      process.stderr.write('\r\x1b[K');
    },
  };
}

async function evalCommand(cli, values, positionals) {
  const path = cli.oneModel(positionals, 'eval');
  const text = readText(cli, values.text);
  const context = cli.integerOption(values, 'context', 4, 2 ** 31 - 1);
  const precision = cli.choiceOption(values, 'precision', nibble.optionChoices.precision, 'w4a8');
  const weights = cli.choiceOption(values, 'weights', cli.weightTypes.map((t) => t.name), cli.defaultType);
  const loadContext = context ? { context } : {};
  const { model } = await cli.load(path, values, { weights }, 'none', undefined, loadContext);
  let reference;
  try {
    if (values.reference !== undefined) {
      reference = (await cli.load(values.reference, values, { weights: 'f32' }, 'none', undefined, loadContext)).model;
    }
    const bar = progressBar(`eval ${path}`);
    const result = await nibble.evaluate(model, text, {
      reference,
      context,
      precision,
      onProgress: (p) => bar.update(p.fraction, `${p.window}/${p.windows} windows  PPL ${p.perplexity.toFixed(4)}` +
        (p.klMean === undefined ? '' : `  KL ${p.klMean.toFixed(5)}`)),
    });
    bar.done();
    const weightType = model.info.weightType;
    if (values.json) {
      process.stdout.write(`${JSON.stringify({ file: path, text: values.text, reference: values.reference ?? null, weights: weightType, ...result }, null, 2)}\n`);
      return;
    }
    const r = result;
    let out = `${path} (${weightType} weights, ${precision}) on ${values.text}: ${number(r.tokens)} tokens, ` +
      `${r.windows} windows of ${r.context}, ${number(r.scored)} scored\n`;
    out += `  perplexity       ${r.perplexity.toFixed(4)} ± ${r.perplexityError.toFixed(4)}`;
    if (r.kl) {
      out += `   (reference ${r.referencePerplexity.toFixed(4)} ± ${r.referencePerplexityError.toFixed(4)})\n`;
      out += `  KL divergence    mean ${r.kl.mean.toFixed(5)} ± ${r.kl.error.toFixed(5)}, median ${r.kl.median.toFixed(5)}, ` +
        `p90 ${r.kl.p90.toFixed(4)}, p99 ${r.kl.p99.toFixed(4)}, max ${r.kl.max.toFixed(4)}\n`;
      out += `  same top token   ${(100 * r.top1).toFixed(2)} ± ${(100 * r.top1Error).toFixed(2)} %\n`;
    } else {
      out += '\n';
    }
    process.stdout.write(out);
  } finally {
    reference?.dispose();
    model.dispose();
  }
}

async function imatrixCommand(cli, values, positionals) {
  const path = cli.oneModel(positionals, 'imatrix');
  if ((values.text === undefined) === (values.self === undefined)) cli.fail('give the calibration text with --text <file>, or --self <n> to sample n tokens from the model');
  const output = values.output ?? cli.fail('where to? give the output file with -o <imatrix.gguf>');
  const text = values.text === undefined ? null : readText(cli, values.text);
  const { self, seed } = selfSampling(cli, values);
  const context = cli.integerOption(values, 'context', 2, 2 ** 31 - 1);
  const { model } = await cli.load(path, values, { weights: 'f32' }, 'none', undefined, context ? { context } : {});
  try {
    const bar = progressBar(`imatrix ${path}`);
    const name = values.text === undefined ? undefined : values.text.split(/[\\/]/).pop();
    const r = await nibble.collectImportance(model, text, {
      context, self, seed, dataset: name,
      onProgress: (p) => bar.update(p.fraction, `${p.window}/${p.windows} windows`),
    });
    bar.done();
    cli.writeOutput(output, r.bytes);
    const source = text === null ? `${number(self)} tokens sampled from the model (seed ${seed})` : values.text;
    process.stderr.write(`wrote ${output}: ${r.windows} windows of ${r.context} tokens (${number(r.positions)} positions) of ` +
      `${source}; ${number(r.tokens - r.positions)} tokens left over\n`);
  } finally {
    model.dispose();
  }
}

// `nibble quantize`'s calibration options (the quantize command is in nibble.mjs).
export const CALIBRATION_OPTIONS = {
  calibrate: { type: 'string' },
  self: { type: 'string' },
  seed: { type: 'string' },
  context: { type: 'string' },
  method: { type: 'string' },
};
const CALIBRATION_METHODS = ['gptq', 'imatrix'];
export const CALIBRATION_HELP = `  --calibrate <file>     calibration text (keep it apart from evaluation text): the
                         matrices are quantized for it with --method
  --self <n>             or: calibrate on n tokens sampled from the model (temperature 1)
  --seed <s>             the seed of --self (default 1)
  --context <n>          calibration window in tokens (default 512, at most the model's)
  --method <m>           gptq (default with calibration data; --pure q4_0 or iq4_nl):
                         output-aware, minimizes the error of each matrix's output on
                         the calibration text, layer after layer | imatrix: an
                         importance matrix collected from it (llama-quantize's rules)`;

// What the calibration options ask for: null without calibration data.
export function calibrationRequest(cli, values) {
  if (values.calibrate === undefined && values.self === undefined) {
    if (values.method !== undefined) cli.fail('--method needs calibration data: --calibrate <file> or --self <n>');
    return null;
  }
  if (values.calibrate !== undefined && values.self !== undefined) cli.fail('give either --calibrate <file> or --self <n>, not both');
  return {
    method: cli.choiceOption(values, 'method', CALIBRATION_METHODS, CALIBRATION_METHODS[0]),
    text: values.calibrate === undefined ? null : readText(cli, values.calibrate),
    ...selfSampling(cli, values),
    context: cli.integerOption(values, 'context', 2, 2 ** 31 - 1),
    source: values.calibrate ?? `${number(Number(values.self))} tokens sampled from the model`,
  };
}

// Loads `path` with f32 weights and runs request.method on it: the GGUF file
// (gptq), or the importance matrix's bytes (imatrix).
// loadExtra: more loadModel options (W4A4's remedy and its importance data).
export async function calibrate(cli, values, path, request, type, loadExtra = {}) {
  const { model } = await cli.load(path, values, { weights: 'f32' }, 'none', undefined,
    { ...(request.context ? { context: request.context } : {}), ...loadExtra });
  try {
    const bar = progressBar(`${request.method} ${path}`);
    const { text, self, seed, context } = request;
    const options = { context, self, seed };
    const started = performance.now();
    const r = request.method === 'gptq'
      ? await nibble.quantizeCalibrated(model, text, { ...options, type, onProgress: (p) => bar.update(p.fraction, `${(100 * p.fraction).toFixed(0)} %`) })
      : await nibble.collectImportance(model, text, { ...options, onProgress: (p) => bar.update(p.fraction, `${p.window}/${p.windows} windows`) });
    bar.done();
    process.stderr.write(`${request.method}: ${r.windows} windows of ${r.context} tokens of ${request.source} ` +
      `in ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
    return r.bytes;
  } finally {
    model.dispose();
  }
}

export const QUALITY_COMMANDS = { eval: evalCommand, imatrix: imatrixCommand };
