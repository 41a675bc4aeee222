// Rewrites the relaxed-SIMD placeholders in a wasm module's code section:
//   i16x8.narrow_i32x4_u (0xFD 0x86 0x01) -> i16x8.relaxed_dot_i8x16_i7x16_s (0xFD 0x92 0x02)
//   i16x8.q15mulr_sat_s  (0xFD 0x82 0x01) -> i8x16.relaxed_swizzle           (0xFD 0x80 0x02)
//
// Why: em++ 3.1.6 (clang 14, binaryen 108) cannot emit the final relaxed-SIMD
// opcodes (see /work/shared/TOOLCHAIN.md, "Relaxed SIMD"). Relaxed kernels
// call wasm_u16x8_narrow_i32x4(a, b) and wasm_i16x8_q15mulr_sat(a, b) as
// placeholders instead (wasmsimd_util.h); each pair of ops is [v128 v128] ->
// [v128] and encodes to the same length, so this is an in-place rewrite
// after linking. Every occurrence is rewritten, so a relaxed-SIMD build must
// use these two ops nowhere else. The module is decoded instruction by
// instruction (never byte-searched), so bytes inside immediates are never
// touched.
//
// Usage: node tools/patch_relaxed_simd.mjs [--allow-none] FILE.wasm...
// Patches in place. A file with neither placeholders nor relaxed ops is an
// error, unless --allow-none (a test program that never reaches the kernels).

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

// Each placeholder and the relaxed op it becomes; both opcodes are 2-byte LEB128s.
export const REWRITES = Object.freeze([
  { placeholder: 'i16x8.narrow_i32x4_u', from: 0x86, fromBytes: [0x86, 0x01],
    relaxed: 'i16x8.relaxed_dot_i8x16_i7x16_s', to: 0x112, toBytes: [0x92, 0x02] },
  { placeholder: 'i16x8.q15mulr_sat_s', from: 0x82, fromBytes: [0x82, 0x01],
    relaxed: 'i8x16.relaxed_swizzle', to: 0x100, toBytes: [0x80, 0x02] },
].map((w) => Object.freeze(w)));
const CODE_SECTION = 10;
const VALUE_TYPES = new Set([0x7f, 0x7e, 0x7d, 0x7c, 0x7b, 0x70, 0x6f]);
const EXCEPTION_OPS = new Set([0x06, 0x07, 0x08, 0x09, 0x0a, 0x18, 0x19, 0x1f]);
const hex = (n) => `0x${n.toString(16)}`;
const hexByte = (n) => `0x${n.toString(16).padStart(2, '0')}`;

// Bounds-checked reads of bytes[pos..end); every overrun is an Error naming the offset.
class Reader {
  constructor(bytes, pos, end) {
    this.bytes = bytes;
    this.pos = pos;
    this.end = end;
  }
  fail(what, at = this.pos) {
    throw new Error(`${what} at byte offset ${at}`);
  }
  byte(what = 'byte') {
    if (this.pos >= this.end) this.fail(`truncated: expected ${what}`);
    return this.bytes[this.pos++];
  }
  skip(n, what) {
    if (n > this.end - this.pos) this.fail(`truncated: expected ${n} bytes of ${what}`);
    this.pos += n;
  }
  // LEB128 of at most `bits` bits; returns the value (as a Number; exact for u32).
  leb(bits, signed, what) {
    const start = this.pos;
    const maxBytes = Math.ceil(bits / 7);
    let value = 0, scale = 1, b;
    for (let i = 0; ; i++) {
      if (i === maxBytes) this.fail(`LEB128 ${what} longer than ${maxBytes} bytes`, start);
      b = this.byte(what);
      value += (b & 0x7f) * scale;
      scale *= 128;
      if (!(b & 0x80)) break;
    }
    if (signed && (b & 0x40)) value -= scale;
    return value;
  }
  u32(what = 'u32') {
    const v = this.leb(32, false, what);
    if (v > 0xffffffff) this.fail(`${what} out of u32 range`);
    return v;
  }
}

function skipMemarg(r) {
  const align = r.u32('memarg align');
  if (align & 0x40) r.u32('memarg memory index');
  r.u32('memarg offset');
}

function skipBlockType(r) {
  const at = r.pos;
  const t = r.leb(33, true, 'block type');
  if (t < 0 && t !== -64 && !VALUE_TYPES.has(t + 128)) r.fail(`invalid block type ${t}`, at);
}

// SIMD (0xFD) instruction after its prefix. placeholders[i] collects the
// offsets of REWRITES[i]'s placeholder opcode, relaxed[i] counts its relaxed op.
function skipSimd(r, counts) {
  const at = r.pos;
  const op = r.u32('SIMD opcode');
  const i = REWRITES.findIndex((w) => w.from === op || w.to === op);
  if (i >= 0 && REWRITES[i].from === op) {
    const { placeholder, fromBytes } = REWRITES[i];
    if (r.pos - at !== 2 || r.bytes[at] !== fromBytes[0] || r.bytes[at + 1] !== fromBytes[1]) {
      r.fail(`${placeholder} opcode is not the 2-byte LEB128 ${fromBytes.map(hexByte).join(' ')}; cannot patch in place`, at);
    }
    counts.placeholders[i].push(at);
  } else if (i >= 0) {
    counts.relaxed[i]++;
  }
  if (op <= 11 || op === 92 || op === 93) skipMemarg(r);
  else if (op === 12 || op === 13) r.skip(16, op === 12 ? 'v128.const' : 'i8x16.shuffle');
  else if (op >= 21 && op <= 34) r.byte('lane index');
  else if (op >= 84 && op <= 91) { skipMemarg(r); r.byte('lane index'); }
  else if (op > 0x113) r.fail(`unknown SIMD opcode 0xfd ${hex(op)}`, at - 1);
}

function skipMisc(r) { // 0xFC prefix
  const at = r.pos;
  const op = r.u32('0xfc sub-opcode');
  if (op <= 7) return;
  switch (op) {
    case 8: r.u32('data index'); r.u32('memory index'); break;
    case 9: case 13: case 15: case 16: case 17: r.u32('index'); break;
    case 10: r.u32('memory index'); r.u32('memory index'); break;
    case 11: r.u32('memory index'); break;
    case 12: case 14: r.u32('index'); r.u32('index'); break;
    default: r.fail(`unknown opcode 0xfc ${hex(op)}`, at - 1);
  }
}

function skipAtomic(r) { // 0xFE prefix
  const at = r.pos;
  const op = r.u32('0xfe sub-opcode');
  if (op === 0x03) r.byte('atomic.fence flags');
  else if (op <= 0x02 || (op >= 0x10 && op <= 0x4e)) skipMemarg(r);
  else r.fail(`unknown opcode 0xfe ${hex(op)}`, at - 1);
}

// One instruction (and its immediates). Returns the block depth change.
function skipInstruction(r, counts) {
  const at = r.pos;
  const op = r.byte('opcode');
  if (op === 0x02 || op === 0x03 || op === 0x04) { skipBlockType(r); return 1; }
  if (op === 0x0b) return -1;
  if (EXCEPTION_OPS.has(op)) r.fail(`unsupported exception-handling opcode ${hex(op)}`, at);
  if (op >= 0x45 && op <= 0xc4) return 0; // numeric, no immediates
  switch (op) {
    case 0x00: case 0x01: case 0x05: case 0x0f: case 0x1a: case 0x1b: case 0xd1: return 0;
    case 0x0c: case 0x0d: case 0x10: case 0x12: case 0xd2: r.u32('index'); return 0;
    case 0x11: case 0x13: r.u32('type index'); r.u32('table index'); return 0;
    case 0x0e: {
      const n = r.u32('br_table count');
      for (let i = 0; i <= n; i++) r.u32('br_table label');
      return 0;
    }
    case 0x1c: r.skip(r.u32('select type count'), 'select types'); return 0;
    case 0x20: case 0x21: case 0x22: case 0x23: case 0x24: case 0x25: case 0x26:
      r.u32('index'); return 0;
    case 0x3f: case 0x40: r.u32('memory index'); return 0;
    case 0x41: r.leb(32, true, 'i32.const'); return 0;
    case 0x42: r.leb(64, true, 'i64.const'); return 0;
    case 0x43: r.skip(4, 'f32.const'); return 0;
    case 0x44: r.skip(8, 'f64.const'); return 0;
    case 0xd0: r.byte('ref.null type'); return 0;
    case 0xfc: skipMisc(r); return 0;
    case 0xfd: skipSimd(r, counts); return 0;
    case 0xfe: skipAtomic(r); return 0;
  }
  if (op >= 0x28 && op <= 0x3e) { skipMemarg(r); return 0; }
  r.fail(`unknown opcode ${hex(op)}`, at);
}

function walkCodeSection(bytes, start, end, counts) {
  const r = new Reader(bytes, start, end);
  const nFunctions = r.u32('function count');
  for (let f = 0; f < nFunctions; f++) {
    const size = r.u32(`function ${f} body size`);
    if (size > r.end - r.pos) r.fail(`function ${f} body size ${size} runs past the code section`);
    const body = new Reader(bytes, r.pos, r.pos + size);
    const nLocalGroups = body.u32('local declaration count');
    for (let i = 0; i < nLocalGroups; i++) {
      body.u32('local count');
      const at = body.pos;
      if (!VALUE_TYPES.has(body.byte('local type'))) body.fail('invalid local type', at);
    }
    let depth = 0;
    while (depth >= 0) {
      if (body.pos >= body.end) body.fail(`function ${f}: body ends before its final 'end'`);
      depth += skipInstruction(body, counts);
    }
    if (body.pos !== body.end) body.fail(`function ${f}: final 'end' is ${body.end - body.pos} bytes before the body's end`);
    r.pos = body.end;
  }
  if (r.pos !== end) r.fail('code section has trailing bytes');
}

export function patchRelaxedSimd(bytes) {
  // Checked by brand rather than instanceof, so Uint8Arrays from other realms (vm, Jest) pass.
  if (Object.prototype.toString.call(bytes) !== '[object Uint8Array]') {
    throw new TypeError('patchRelaxedSimd: expected a Uint8Array');
  }
  const r = new Reader(bytes, 0, bytes.length);
  const magic = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
  for (let i = 0; i < magic.length; i++) {
    if (r.byte('wasm header') !== magic[i]) r.fail('not a wasm module (bad magic or version)', i);
  }
  const counts = { placeholders: REWRITES.map(() => []), relaxed: REWRITES.map(() => 0) };
  let sawCode = false;
  while (r.pos < r.end) {
    const id = r.byte('section id');
    const size = r.u32('section size');
    if (size > r.end - r.pos) r.fail(`truncated: section ${id} of ${size} bytes runs past the end of the module`);
    if (id === CODE_SECTION) {
      if (sawCode) r.fail('duplicate code section');
      sawCode = true;
      walkCodeSection(bytes, r.pos, r.pos + size, counts);
    }
    r.pos += size;
  }
  const out = new Uint8Array(bytes);
  REWRITES.forEach(({ toBytes }, i) => {
    for (const at of counts.placeholders[i]) out.set(toBytes, at);
  });
  // Per rewrite: how many placeholders were rewritten, how many relaxed ops were there already.
  const rewrites = REWRITES.map(({ placeholder, relaxed }, i) => ({
    placeholder, relaxed, rewritten: counts.placeholders[i].length, present: counts.relaxed[i],
  }));
  const [dot, swizzle] = rewrites;
  return {
    bytes: out,
    placeholders: dot.rewritten + swizzle.rewritten,
    relaxedDots: dot.present,
    relaxedSwizzles: swizzle.present,
    rewrites,
  };
}

function patchFile(file, allowNone) {
  const { bytes, placeholders, rewrites } = patchRelaxedSimd(fs.readFileSync(file));
  const list = (key, name) => rewrites.filter((w) => w[key] > 0).map((w) => `${w[key]} ${name(w)}`).join(', ');
  if (placeholders === 0) {
    if (rewrites.every((w) => w.present === 0)) {
      if (allowNone) return 'no relaxed kernels, left as is';
      throw new Error(`no placeholder (${REWRITES.map((w) => w.placeholder).join(', ')}) and no relaxed op found; expected a relaxed-SIMD build`);
    }
    return `already patched (${list('present', (w) => w.relaxed)}), left as is`;
  }
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.tmp`);
  fs.writeFileSync(tmp, bytes);
  fs.renameSync(tmp, file); // atomic: the file is either old or fully patched
  return list('rewritten', (w) => `${w.placeholder} -> ${w.relaxed}`);
}

function main(args) {
  const allowNone = args[0] === '--allow-none';
  const files = allowNone ? args.slice(1) : args;
  if (files.length === 0) {
    console.error('usage: node tools/patch_relaxed_simd.mjs [--allow-none] FILE.wasm...');
    return 1;
  }
  let status = 0;
  for (const file of files) {
    try {
      console.log(`patch_relaxed_simd: ${file}: ${patchFile(file, allowNone)}`);
    } catch (e) {
      console.error(`patch_relaxed_simd: ${file}: ${e.message}`);
      status = 1;
    }
  }
  return status;
}

function isEntryPoint() {
  try {
    return fs.realpathSync(process.argv[1]) === fs.realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false; // no script path (node -e, REPL)
  }
}
if (isEntryPoint()) process.exitCode = main(process.argv.slice(2));
