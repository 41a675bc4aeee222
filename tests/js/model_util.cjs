// Helpers for the model tests: fixture paths and references, judging logits,
// a local HTTP server, and a writer for random-weight LLaMA GGUF files.
const fs = require('node:fs');
const http = require('node:http');
const path = require('node:path');
const modelReference = require('./model_reference.cjs');

const REPO = path.join(__dirname, '..', '..');
const MODELS = path.join(REPO, 'models');
const model = (name) => path.join(MODELS, name);

const references = JSON.parse(fs.readFileSync(model('stories260K.reference.json'), 'utf8'));
const logitsReference = JSON.parse(fs.readFileSync(model('stories260K.logits.json'), 'utf8'));

// Logits [16, vocab] for the reference's input tokens, judged against it.
const compareLogits = (all, vocab) => modelReference.compareLogits(all, vocab, logitsReference);
const { logitsFailures } = modelReference;

// Serves folders on 127.0.0.1. Options per request path: gzip (sends the
// file with Content-Encoding, so its size is unknown), cut (announces the
// whole file but breaks the connection half-way); slowMs: a pause between
// 64 KiB chunks.
function startServer(root, { gzip = [], cut = [], slowMs = 0 } = {}) {
  const zlib = require('node:zlib');
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://127.0.0.1');
    const file = path.join(root, decodeURIComponent(url.pathname));
    if (!file.startsWith(root) || !fs.existsSync(file) || !fs.statSync(file).isFile()) {
      res.writeHead(404, { 'Content-Type': 'text/plain' });
      res.end('not found');
      return;
    }
    const bytes = fs.readFileSync(file);
    if (gzip.includes(url.pathname)) {
      res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Encoding': 'gzip' });
      res.end(zlib.gzipSync(bytes));
      return;
    }
    res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': bytes.length });
    if (cut.includes(url.pathname)) {
      res.write(bytes.subarray(0, bytes.length >> 1));
      setTimeout(() => res.destroy(), 20);
      return;
    }
    if (!slowMs) {
      res.end(bytes);
      return;
    }
    let at = 0;
    const step = () => {
      if (res.destroyed) return;
      if (at >= bytes.length) {
        res.end();
        return;
      }
      res.write(bytes.subarray(at, at + 65536));
      at += 65536;
      setTimeout(step, slowMs);
    };
    step();
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      resolve({
        url: `http://127.0.0.1:${server.address().port}/`,
        close: () => new Promise((done) => {
          server.closeAllConnections?.();
          server.close(() => done());
        }),
      });
    });
  });
}

// ---------------------------------------------------------------------------
// A GGUF v3 writer for random LLaMA models (the loader's large-file tests).

const GGUF = { u32: 4, i32: 5, f32: 6, bool: 7, string: 8, array: 9 };
const TYPE_F32 = 0, TYPE_Q4_0 = 2;

class Bytes {
  constructor() {
    this.parts = [];
    this.length = 0;
  }
  push(u8) {
    this.parts.push(u8);
    this.length += u8.length;
  }
  u32(v) { const b = Buffer.alloc(4); b.writeUInt32LE(v); this.push(b); }
  u64(v) { const b = Buffer.alloc(8); b.writeBigUInt64LE(BigInt(v)); this.push(b); }
  f32(v) { const b = Buffer.alloc(4); b.writeFloatLE(v); this.push(b); }
  str(s) { const b = Buffer.from(s, 'utf8'); this.u64(b.length); this.push(b); }
  concat() { return Buffer.concat(this.parts, this.length); }
}

// A seeded stream of pseudo-random bytes: AES-128-CTR over zeros, fast
// enough for files of several GB. next(n) -> the next n bytes (a Buffer).
function randomStream(seed) {
  const key = Buffer.alloc(16);
  key.writeUInt32LE(seed >>> 0);
  const cipher = require('node:crypto').createCipheriv('aes-128-ctr', key, Buffer.alloc(16));
  return (n) => cipher.update(Buffer.alloc(n));
}

// Q4_0 blocks of random nibbles with a small scale: rows × cols weights.
function randomQ4_0(rows, cols, next) {
  const bytes = next(rows * cols / 32 * 18);
  for (let b = 0; b < bytes.length; b += 18) bytes[b + 1] = 0x20 | (bytes[b + 1] & 3); // fp16 ≈ 0.008 .. 0.016
  return bytes;
}

// A LLaMA GGUF with Q4_0 matrices and a made-up SentencePiece vocabulary:
// <unk>, <s>, </s>, the 256 byte tokens, then words up to `vocab` tokens
// (or, with bytes: false, only `words`). flatOutput: output_norm is all
// zeros, so every token is equally likely (samples are uniform). control:
// more control tokens after the bytes (chat markers such as <|im_start|>);
// metadata: more string keys, e.g. { 'tokenizer.chat_template': ... }.
function randomLlamaGguf(options) {
  const { header, tensors } = llamaGgufLayout(options);
  const out = new Bytes();
  out.push(header);
  for (const t of tensors) {
    out.push(t.data());
    out.push(Buffer.alloc(t.padding));
  }
  return out.concat();
}

// The same file written to `file` a tensor at a time (files of several GB;
// Buffers stop at 4 GB). sparse: the tensor data is left unwritten, a hole
// of zeros the file system does not store (for a loader that must give up
// once it has read the header). Returns the file's size in bytes.
function writeRandomLlamaGguf(file, options, { sparse = false } = {}) {
  const { header, tensors } = llamaGgufLayout(options);
  const fd = fs.openSync(file, 'w');
  try {
    let size = header.length;
    fs.writeSync(fd, header);
    for (const t of tensors) {
      if (!sparse) fs.writeSync(fd, t.data(), 0, t.bytes, size); // the padding: zeros from ftruncate
      size += t.bytes + t.padding;
    }
    fs.ftruncateSync(fd, size);
    return size;
  } finally {
    fs.closeSync(fd);
  }
}

// A random LLaMA GGUF as its header (Buffer) and its tensors in file order,
// each { bytes, padding, data() }: data() makes the tensor's bytes (call
// them in order: they come from one seeded generator).
function llamaGgufLayout({ dim = 512, hidden = 1536, layers = 8, heads = 8, kvHeads = 4, vocab = 4096, context = 256, seed = 1, bytes = true, words = [], flatOutput = false, control = [], metadata = {} } = {}) {
  const next = randomStream(seed);
  const tokens = ['<unk>', '<s>', '</s>'];
  if (bytes) for (let i = 0; i < 256; i++) tokens.push(`<0x${i.toString(16).toUpperCase().padStart(2, '0')}>`);
  const byteEnd = tokens.length;
  tokens.push(...control);
  tokens.push(...words);
  while (tokens.length < vocab) tokens.push(`▁w${tokens.length}`);
  vocab = tokens.length;
  const controlEnd = byteEnd + control.length;
  const types = tokens.map((_, i) => (i === 0 ? 2 : i < 3 ? 3 : i < byteEnd ? 6 : i < controlEnd ? 3 : 1));
  const kv = [
    ['general.architecture', 'string', 'llama'],
    ['general.name', 'string', 'random test model'],
    ['llama.context_length', 'u32', context],
    ['llama.embedding_length', 'u32', dim],
    ['llama.block_count', 'u32', layers],
    ['llama.feed_forward_length', 'u32', hidden],
    ['llama.attention.head_count', 'u32', heads],
    ['llama.attention.head_count_kv', 'u32', kvHeads],
    ['llama.attention.layer_norm_rms_epsilon', 'f32', 1e-5],
    ['tokenizer.ggml.model', 'string', 'llama'],
    ['tokenizer.ggml.tokens', 'strings', tokens],
    ['tokenizer.ggml.scores', 'f32s', tokens.map((_, i) => -i)],
    ['tokenizer.ggml.token_type', 'i32s', types],
    ['tokenizer.ggml.bos_token_id', 'u32', 1],
    ['tokenizer.ggml.eos_token_id', 'u32', 2],
    ...Object.entries(metadata).map(([key, value]) => [key, 'string', value]),
  ];
  const kvDim = (dim / heads) * kvHeads;
  const tensors = [];
  const matrix = (name, rows, cols) => tensors.push({ name, type: TYPE_Q4_0, shape: [cols, rows], bytes: rows * cols / 32 * 18, data: () => randomQ4_0(rows, cols, next) });
  const norm = (name, value = 1) => {
    const data = Buffer.alloc(dim * 4);
    for (let i = 0; i < dim; i++) data.writeFloatLE(value, i * 4);
    tensors.push({ name, type: TYPE_F32, shape: [dim], bytes: data.length, data: () => data });
  };
  matrix('token_embd.weight', vocab, dim);
  for (let l = 0; l < layers; l++) {
    norm(`blk.${l}.attn_norm.weight`);
    matrix(`blk.${l}.attn_q.weight`, dim, dim);
    matrix(`blk.${l}.attn_k.weight`, kvDim, dim);
    matrix(`blk.${l}.attn_v.weight`, kvDim, dim);
    matrix(`blk.${l}.attn_output.weight`, dim, dim);
    norm(`blk.${l}.ffn_norm.weight`);
    matrix(`blk.${l}.ffn_gate.weight`, hidden, dim);
    matrix(`blk.${l}.ffn_down.weight`, dim, hidden);
    matrix(`blk.${l}.ffn_up.weight`, hidden, dim);
  }
  norm('output_norm.weight', flatOutput ? 0 : 1);

  const out = new Bytes();
  out.push(Buffer.from('GGUF'));
  out.u32(3);
  out.u64(tensors.length);
  out.u64(kv.length);
  for (const [key, kind, value] of kv) {
    out.str(key);
    if (kind === 'string') { out.u32(GGUF.string); out.str(value); }
    else if (kind === 'u32') { out.u32(GGUF.u32); out.u32(value); }
    else if (kind === 'f32') { out.u32(GGUF.f32); out.f32(value); }
    else {
      out.u32(GGUF.array);
      out.u32(kind === 'strings' ? GGUF.string : kind === 'f32s' ? GGUF.f32 : GGUF.i32);
      out.u64(value.length);
      for (const v of value) {
        if (kind === 'strings') out.str(v);
        else if (kind === 'f32s') out.f32(v);
        else { const b = Buffer.alloc(4); b.writeInt32LE(v); out.push(b); }
      }
    }
  }
  let offset = 0;
  for (const t of tensors) {
    out.str(t.name);
    out.u32(t.shape.length);
    for (const d of t.shape) out.u64(d);
    out.u32(t.type);
    out.u64(offset);
    t.padding = (32 - (t.bytes % 32)) % 32;
    offset += t.bytes + t.padding;
  }
  out.push(Buffer.alloc((32 - (out.length % 32)) % 32));
  return { header: out.concat(), tensors };
}

// Over the 4 GB wasm heap: dim 8192, 10 layers of Q4_0, a 5.0 GB file that
// needs 5.1 GiB once loaded (write it sparse: the loader must give up after
// the header).
const TOO_LARGE_FOR_WASM = Object.freeze({ dim: 8192, hidden: 28672, layers: 10, heads: 64, kvHeads: 8, vocab: 32000 });

module.exports = { TOO_LARGE_FOR_WASM, REPO, MODELS, model, references, logitsReference, compareLogits, logitsFailures, startServer, randomLlamaGguf, writeRandomLlamaGguf };
