// tools/patch_relaxed_simd.mjs: rewrites i16x8.narrow_i32x4_u placeholders
// into i16x8.relaxed_dot_i8x16_i7x16_s and i16x8.q15mulr_sat_s placeholders
// into i8x16.relaxed_swizzle by decoding the module, so bytes that merely look
// like a placeholder inside immediates are left alone; malformed modules give
// an Error; the CLI patches files in place.
//
// The tool is loaded with import() through Node's own loader: Jest's
// import() needs --experimental-vm-modules. So the tool lives in the main
// realm and its Errors are not instances of this file's Error; errors are
// checked by name and message.
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const v8 = require('node:v8');
const vm = require('node:vm');

const TOOL = path.join(__dirname, '..', '..', 'tools', 'patch_relaxed_simd.mjs');
const importTool = vm.runInThisContext('(url) => import(url)', {
  importModuleDynamically: vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER,
});

// ---- A tiny wasm assembler ----
const I32 = 0x7f, V128 = 0x7b;
const PLACEHOLDER = [0xfd, 0x86, 0x01]; // i16x8.narrow_i32x4_u
const RELAXED_DOT = [0xfd, 0x92, 0x02]; // i16x8.relaxed_dot_i8x16_i7x16_s
const SWIZZLE_PLACEHOLDER = [0xfd, 0x82, 0x01]; // i16x8.q15mulr_sat_s
const RELAXED_SWIZZLE = [0xfd, 0x80, 0x02]; // i8x16.relaxed_swizzle
const DROP = 0x1a, END = 0x0b;

function uleb(n) {
  const out = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n) b |= 0x80;
    out.push(b);
  } while (n);
  return out;
}
const vec = (items) => [...uleb(items.length), ...items.flat()];
const section = (id, payload) => [id, ...uleb(payload.length), ...payload];
const name = (s) => vec([...Buffer.from(s)]);
const v128Const = (bytes) => [0xfd, 0x0c, ...bytes];
const i8Bytes = (values) => values.map((v) => v & 0xff);

// funcs: [{ params, results, code (without the final end), exportName?, bodySize? }]
function buildModule(funcs, { memory = false } = {}) {
  const types = funcs.map((f) => [0x60, ...vec(f.params || []), ...vec(f.results || [])]);
  const exports = [];
  funcs.forEach((f, i) => f.exportName && exports.push([...name(f.exportName), 0x00, ...uleb(i)]));
  if (memory) exports.push([...name('memory'), 0x02, 0x00]);
  const bodies = funcs.map((f) => {
    const body = [0x00 /* no locals */, ...f.code, END];
    return [...uleb(f.bodySize ?? body.length), ...body];
  });
  return Uint8Array.from([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, vec(types)),
    ...section(3, vec(funcs.map((_, i) => uleb(i)))),
    ...(memory ? section(5, vec([[0x00, 0x01]])) : []),
    ...section(7, vec(exports)),
    ...section(10, vec(bodies)),
  ]);
}

// A function whose immediates contain the bytes of `decoy` (a placeholder,
// 0xFD 0x86 0x01 unless given) several times, around real `op` instructions
// (placeholder or relaxed op).
function trickyCode(op, decoy = PLACEHOLDER) {
  return [
    ...v128Const([...decoy, ...decoy, ...decoy, ...decoy, ...decoy, 0x00]), DROP,
    0x41, ...decoy, DROP, // i32.const (LEB fd 86 01 = 17277)
    0x42, 0x80, ...decoy, DROP, // i64.const, LEB 80 fd 86 01
    0x44, 0x00, ...decoy, ...decoy, 0x00, DROP, // f64.const
    0x41, 0x00, 0x28, 0x02, ...decoy, DROP, // i32.load offset=<decoy>
    0x41, 0x00, 0xfd, 0x00, 0x04, ...decoy, // v128.load offset=<decoy>
    ...v128Const(Array(16).fill(0xfd)), ...op, DROP, // real instruction
    0x41, 0x00, ...v128Const(Array(16).fill(0)),
    0xfd, 0x54, 0x00, ...decoy, 0x0f, // v128.load8_lane offset=<decoy> lane 15
    ...v128Const([...decoy.slice(1), ...Array(14).fill(0)]),
    0xfd, 0x0d, ...[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 31], // i8x16.shuffle
    ...v128Const(Array(16).fill(decoy[1])), ...op, DROP, // real instruction
    0x02, 0x40, 0x0c, 0x00, END, // block br 0 end
    0x41, ...decoy, 0x04, I32, 0x41, 0x01, 0x05, 0x41, 0x02, END, // if (result i32) else end
  ];
}

// Functional check: the i16x8 op on a and b, stored at address 0; returns
// i16x8.all_true(result == dot(a, b)).
const A = [-128, 127, -1, 1, 5, -7, 100, -100, 0, 3, -128, -128, 127, 127, 9, -9];
const B = [15, 15, 0, 1, 2, 3, 15, 14, 7, 0, 15, 15, 15, 15, 8, 0];
const DOT = Array.from({ length: 8 }, (_, i) => A[2 * i] * B[2 * i] + A[2 * i + 1] * B[2 * i + 1]);
function dotModule(op) {
  const expected = [...new Uint8Array(Int16Array.from(DOT).buffer)];
  const code = [
    0x41, 0x00, ...v128Const(i8Bytes(A)), ...v128Const(i8Bytes(B)), ...op,
    0xfd, 0x0b, 0x04, 0x00, // v128.store
    0x41, 0x00, 0xfd, 0x00, 0x04, 0x00, // v128.load
    ...v128Const(expected), 0xfd, 0x2d, // i16x8.eq
    0xfd, 0x83, 0x01, // i16x8.all_true
  ];
  return buildModule([{ results: [I32], code, exportName: 'check' }], { memory: true });
}
// What i16x8.narrow_i32x4_u computes on the same operands.
function narrowU(a, b) {
  const lanes = [...new Int32Array(Int8Array.from(a).buffer), ...new Int32Array(Int8Array.from(b).buffer)];
  return lanes.map((x) => Math.min(Math.max(x, 0), 0xffff)).map((x) => (x << 16) >> 16);
}
function run(bytes) {
  const { exports } = new WebAssembly.Instance(new WebAssembly.Module(bytes));
  const result = exports.check();
  return { result, lanes: Array.from(new Int16Array(exports.memory.buffer, 0, 8)) };
}

// The same for i8x16 lanes of the swizzle: TABLE[INDICES[i]], indices 0..15
// (the kernels' case: the same on every engine).
const TABLE = [0, 8, 14, 17, 18, 17, 15, 12, 8, 5, 2, 0, 0, 1, 6, 15].map((v, i) => v + 3 * i);
const INDICES = [0, 15, 1, 14, 2, 13, 3, 12, 4, 11, 5, 10, 6, 9, 7, 8];
const SWIZZLED = INDICES.map((i) => TABLE[i]);
function swizzleModule(op) {
  const code = [
    0x41, 0x00, ...v128Const(TABLE), ...v128Const(INDICES), ...op,
    0xfd, 0x0b, 0x04, 0x00, // v128.store
    0x41, 0x00, 0xfd, 0x00, 0x04, 0x00, // v128.load
    ...v128Const(SWIZZLED), 0xfd, 0x23, // i8x16.eq
    0xfd, 0x63, // i8x16.all_true
  ];
  return buildModule([{ results: [I32], code, exportName: 'check' }], { memory: true });
}
// Both placeholders in one function, the dot's and the swizzle's.
function bothModule(dot, swizzle) {
  const code = [
    ...v128Const(TABLE), ...v128Const(INDICES), ...swizzle,
    ...v128Const(i8Bytes(A)), ...dot, DROP, DROP, 0x41, 0x07,
  ];
  return buildModule([{ results: [I32], code, exportName: 'seven' }]);
}

const noSimdModule = () => buildModule([{ results: [I32], code: [0x41, 0x07], exportName: 'seven' }]);

// fn() throws a plain Error (from any realm) whose message matches pattern.
function expectError(fn, pattern) {
  let error = null;
  try {
    fn();
  } catch (e) {
    error = e;
  }
  expect(error).not.toBeNull();
  expect(`${error.name}: ${error.message}`).toMatch(pattern);
  expect(error.constructor.name).toBe('Error'); // not a RangeError/TypeError leaking out
}

let patchRelaxedSimd;
beforeAll(async () => {
  ({ patchRelaxedSimd } = await importTool(TOOL));
  v8.setFlagsFromString('--experimental-wasm-relaxed-simd');
});
// Other test files may share this worker: turn the flag back off.
afterAll(() => v8.setFlagsFromString('--no-experimental-wasm-relaxed-simd'));

describe('decoding', () => {
  test('only real placeholders are rewritten, not look-alike bytes in immediates', () => {
    const original = buildModule([
      { results: [I32], code: trickyCode(PLACEHOLDER) },
      { params: [I32], results: [V128], code: [...trickyCode(RELAXED_DOT), DROP, ...v128Const(Array(16).fill(1))] },
    ], { memory: true });
    const expected = buildModule([
      { results: [I32], code: trickyCode(RELAXED_DOT) },
      { params: [I32], results: [V128], code: [...trickyCode(RELAXED_DOT), DROP, ...v128Const(Array(16).fill(1))] },
    ], { memory: true });
    expect(WebAssembly.validate(original)).toBe(true); // the hand-assembled module is well formed
    const snapshot = Array.from(original);
    const out = patchRelaxedSimd(original);
    expect({ placeholders: out.placeholders, relaxedDots: out.relaxedDots }).toEqual({ placeholders: 2, relaxedDots: 2 });
    expect(Array.from(out.bytes)).toEqual(Array.from(expected));
    expect(Array.from(original)).toEqual(snapshot); // input not modified
    // The decoys survive: 0xfd 0x86 0x01 occurs 13 times in each function's immediates.
    const count = (bytes) => Array.from(bytes).filter((b, i, a) => b === 0xfd && a[i + 1] === 0x86 && a[i + 2] === 0x01).length;
    expect([count(original), count(out.bytes)]).toEqual([2 * 13 + 2, 2 * 13]);
  });

  test('the swizzle placeholder too, and not its look-alike bytes', () => {
    const code = (dot, swizzle) => [
      ...trickyCode(swizzle, SWIZZLE_PLACEHOLDER), DROP, ...trickyCode(dot), DROP, ...trickyCode(swizzle), DROP,
      ...trickyCode(RELAXED_SWIZZLE, RELAXED_SWIZZLE),
    ];
    const original = buildModule([{ results: [I32], code: code(PLACEHOLDER, SWIZZLE_PLACEHOLDER) }], { memory: true });
    const expected = buildModule([{ results: [I32], code: code(RELAXED_DOT, RELAXED_SWIZZLE) }], { memory: true });
    expect(WebAssembly.validate(original)).toBe(true);
    const out = patchRelaxedSimd(original);
    expect({ placeholders: out.placeholders, relaxedDots: out.relaxedDots, relaxedSwizzles: out.relaxedSwizzles }).toEqual({
      placeholders: 6, relaxedDots: 0, relaxedSwizzles: 2,
    });
    expect(out.rewrites).toEqual([
      { placeholder: 'i16x8.narrow_i32x4_u', relaxed: 'i16x8.relaxed_dot_i8x16_i7x16_s', rewritten: 2, present: 0 },
      { placeholder: 'i16x8.q15mulr_sat_s', relaxed: 'i8x16.relaxed_swizzle', rewritten: 4, present: 2 },
    ]);
    expect(Array.from(out.bytes)).toEqual(Array.from(expected));
  });

  test('immediates of multi-memory, atomics, bulk memory and reference instructions (decoded only)', () => {
    // Not valid for Node 20 (multi-memory, no tables): this checks the decoder only.
    const decoy = [0xfd, 0x86, 0x01];
    const code = (op) => [
      0x41, 0x00, 0x28, 0x42, 0x00, ...decoy, DROP, // i32.load with memory index 0 (align bit 6)
      0xfe, 0x03, 0x00, // atomic.fence
      0x41, 0x00, 0xfe, 0x10, 0x02, ...decoy, DROP, // i32.atomic.load offset=17277
      // memory.init, data.drop, memory.copy, memory.fill; memory indices as u32 LEB128 (multi-memory)
      0xfc, 0x08, 0x00, ...decoy, 0xfc, 0x09, ...decoy, 0xfc, 0x0a, ...decoy, ...decoy, 0xfc, 0x0b, ...decoy,
      0xfc, 0x0c, ...decoy, 0x00, 0xfc, 0x0d, ...decoy, 0xfc, 0x0e, 0x00, 0x00, // table.init, elem.drop, table.copy
      0xfc, 0x0f, 0x00, 0xfc, 0x10, 0x00, 0xfc, 0x11, 0x00, 0xfc, 0x00, // table.grow/size/fill, i32.trunc_sat_f32_s
      0x02, 0x80, 0x00, 0x0e, 0x02, 0x00, 0x01, ...decoy, END, // block (type 0, padded s33) br_table 0 1 17277
      0x11, ...decoy, 0x00, 0x13, ...decoy, 0x00, 0x12, ...decoy, // call_indirect, return_call_indirect, return_call
      0x1c, 0x01, I32, 0x25, 0x00, 0x26, 0x00, // select (result i32), table.get/set
      0xd2, ...decoy, 0xd0, 0x70, 0xd1, 0x23, ...decoy, 0x3f, 0x00, 0x40, 0x00, // ref.func, ref.null, ref.is_null, global.get
      0xfd, 0x15, 0x0f, 0xfd, 0x5c, 0x04, ...decoy, // i8x16.extract_lane_s 15, v128.load32_zero
      0xfd, 0x88, 0x02, 0xfd, 0x93, 0x02, // relaxed opcodes 0x108, 0x113
      ...op,
    ];
    const { bytes, placeholders, relaxedDots } = patchRelaxedSimd(buildModule([{ code: code(PLACEHOLDER) }]));
    expect({ placeholders, relaxedDots }).toEqual({ placeholders: 1, relaxedDots: 0 });
    expect(Array.from(bytes)).toEqual(Array.from(buildModule([{ code: code(RELAXED_DOT) }])));
  });

  test('counts on a module without SIMD are zero', () => {
    const out = patchRelaxedSimd(noSimdModule());
    expect({ placeholders: out.placeholders, relaxedDots: out.relaxedDots }).toEqual({ placeholders: 0, relaxedDots: 0 });
    expect(Array.from(out.bytes)).toEqual(Array.from(noSimdModule()));
  });
});

describe('patched module runs the relaxed swizzle', () => {
  test('after patching, i8x16 lanes are table[index] for indices 0..15', () => {
    const original = swizzleModule(SWIZZLE_PLACEHOLDER);
    expect(run(original).result).toBe(0); // the placeholder computes i16x8.q15mulr_sat_s
    const { bytes, placeholders, relaxedSwizzles } = patchRelaxedSimd(original);
    expect({ placeholders, relaxedSwizzles }).toEqual({ placeholders: 1, relaxedSwizzles: 0 });
    expect(Array.from(bytes)).toEqual(Array.from(swizzleModule(RELAXED_SWIZZLE)));
    const { exports } = new WebAssembly.Instance(new WebAssembly.Module(bytes));
    expect(exports.check()).toBe(1);
    expect(Array.from(new Uint8Array(exports.memory.buffer, 0, 16))).toEqual(SWIZZLED);
  });
});

describe('patched module runs the relaxed dot', () => {
  test('after patching, i16x8 lanes are a[2i]*b[2i] + a[2i+1]*b[2i+1]', () => {
    const original = dotModule(PLACEHOLDER);
    const before = run(original); // the placeholder computes i16x8.narrow_i32x4_u
    expect(before.lanes).toEqual(narrowU(A, B));
    expect(before.lanes).not.toEqual(DOT);
    expect(before.result).toBe(0);

    const { bytes, placeholders } = patchRelaxedSimd(original);
    expect(placeholders).toBe(1);
    expect(Array.from(bytes)).toEqual(Array.from(dotModule(RELAXED_DOT)));
    const after = run(bytes);
    expect(after.lanes).toEqual(DOT);
    expect(after.result).toBe(1);
  });
});

describe('malformed input gives an Error', () => {
  const valid = () => buildModule([{ results: [I32], code: trickyCode(PLACEHOLDER) }], { memory: true });

  test('bad magic, bad version, empty input', () => {
    const badMagic = valid();
    badMagic[1] = 0x62;
    expectError(() => patchRelaxedSimd(badMagic), /not a wasm module/);
    const badVersion = valid();
    badVersion[4] = 2;
    expectError(() => patchRelaxedSimd(badVersion), /not a wasm module/);
    expectError(() => patchRelaxedSimd(new Uint8Array(0)), /truncated/);
  });

  test('every truncation either decodes (a section boundary) or throws an Error', () => {
    const bytes = valid();
    let failures = 0;
    for (let n = 0; n < bytes.length; n++) {
      try {
        patchRelaxedSimd(bytes.subarray(0, n));
      } catch (e) {
        expect(`${e.constructor.name}: ${e.message}`).toMatch(/^Error: .*(truncated|runs past|ends before)/);
        failures++;
      }
    }
    expect(failures).toBeGreaterThan(bytes.length - 10);
    expectError(() => patchRelaxedSimd(bytes.subarray(0, bytes.length - 3)), /truncated: section 10/);
  });

  test('a function body whose size is shorter than its instructions', () => {
    const code = [0x41, 0x01, DROP];
    const mod = buildModule([{ code, bodySize: 4 }, { code: [] }]); // real body: 5 bytes
    expectError(() => patchRelaxedSimd(mod), /function 0: body ends before its final 'end'/);
  });

  test('a body size running past the code section', () => {
    const mod = buildModule([{ code: [], bodySize: 100 }]);
    expectError(() => patchRelaxedSimd(mod), /function 0 body size 100 runs past the code section/);
  });

  test('a body with bytes after its final end', () => {
    const mod = buildModule([{ code: [END, 0x01] }]); // end, then a stray nop and end
    expectError(() => patchRelaxedSimd(mod), /function 0: final 'end' is 2 bytes before the body's end/);
  });

  test.each([
    ['unknown opcode', [0x27], /unknown opcode 0x27 at byte offset \d+/],
    ['unknown 0xfc opcode', [0xfc, 0x40], /unknown opcode 0xfc 0x40/],
    ['unknown SIMD opcode', [0xfd, 0xa0, 0x04], /unknown SIMD opcode 0xfd 0x220/],
    ['unknown atomic opcode', [0xfe, 0x7f], /unknown opcode 0xfe 0x7f/],
    ['exception handling (try)', [0x06, 0x40, END], /unsupported exception-handling opcode 0x6/],
    ['an over-long LEB128', [0x41, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00], /LEB128 i32.const longer than 5 bytes/],
    ['an invalid block type', [0x02, 0x50, END], /invalid block type/],
  ])('%s', (_, code, pattern) => {
    expectError(() => patchRelaxedSimd(buildModule([{ code }])), pattern);
  });

  test('the error names the byte offset of the opcode', () => {
    const mod = buildModule([{ code: [0x01, 0x27] }]);
    const at = mod.length - 2; // ..., 0x01, 0x27, end
    expectError(() => patchRelaxedSimd(mod), new RegExp(`unknown opcode 0x27 at byte offset ${at}$`));
  });

  test('a placeholder with a padded LEB128 opcode cannot be patched in place', () => {
    const code = [...v128Const(Array(16).fill(0)), ...v128Const(Array(16).fill(0)), 0xfd, 0x86, 0x81, 0x00, DROP];
    const mod = buildModule([{ code }]);
    expect(WebAssembly.validate(mod)).toBe(true); // valid wasm, just not patchable
    expectError(() => patchRelaxedSimd(mod), /not the 2-byte LEB128 0x86 0x01; cannot patch in place/);
  });

  test('a swizzle placeholder with a padded LEB128 opcode cannot be patched in place', () => {
    const code = [...v128Const(Array(16).fill(0)), ...v128Const(Array(16).fill(0)), 0xfd, 0x82, 0x81, 0x00, DROP];
    const mod = buildModule([{ code }]);
    expect(WebAssembly.validate(mod)).toBe(true);
    expectError(() => patchRelaxedSimd(mod), /i16x8.q15mulr_sat_s opcode is not the 2-byte LEB128 0x82 0x01; cannot patch in place/);
  });

  test('a non-Uint8Array argument is a TypeError', () => {
    expect(() => patchRelaxedSimd([0, 0x61, 0x73, 0x6d])).toThrow(/expected a Uint8Array/);
  });
});

describe('command line', () => {
  let dir;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'patch-relaxed-'));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  const cli = (...args) => {
    const r = spawnSync(process.execPath, [TOOL, ...args], { encoding: 'utf8', timeout: 30000 });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  };
  const write = (file, bytes) => {
    const p = path.join(dir, file);
    fs.writeFileSync(p, bytes);
    return p;
  };

  test('patches in place, then reports already patched', () => {
    const file = write('k.wasm', dotModule(PLACEHOLDER));
    expect(cli(file)).toEqual({
      code: 0,
      stdout: `patch_relaxed_simd: ${file}: 1 i16x8.narrow_i32x4_u -> i16x8.relaxed_dot_i8x16_i7x16_s\n`,
      stderr: '',
    });
    expect(Array.from(fs.readFileSync(file))).toEqual(Array.from(dotModule(RELAXED_DOT)));
    expect(cli(file)).toEqual({
      code: 0,
      stdout: `patch_relaxed_simd: ${file}: already patched (1 i16x8.relaxed_dot_i8x16_i7x16_s), left as is\n`,
      stderr: '',
    });
    expect(Array.from(fs.readFileSync(file))).toEqual(Array.from(dotModule(RELAXED_DOT)));
    expect(fs.readdirSync(dir)).toEqual(['k.wasm']); // no temporary file left behind
  });

  test('both placeholders: both rewritten and reported', () => {
    const file = write('both.wasm', bothModule(PLACEHOLDER, SWIZZLE_PLACEHOLDER));
    expect(cli(file)).toEqual({
      code: 0,
      stdout: `patch_relaxed_simd: ${file}: 1 i16x8.narrow_i32x4_u -> i16x8.relaxed_dot_i8x16_i7x16_s, ` +
        '1 i16x8.q15mulr_sat_s -> i8x16.relaxed_swizzle\n',
      stderr: '',
    });
    expect(Array.from(fs.readFileSync(file))).toEqual(Array.from(bothModule(RELAXED_DOT, RELAXED_SWIZZLE)));
    expect(cli(file)).toEqual({
      code: 0,
      stdout: `patch_relaxed_simd: ${file}: already patched (1 i16x8.relaxed_dot_i8x16_i7x16_s, 1 i8x16.relaxed_swizzle), left as is\n`,
      stderr: '',
    });
    fs.rmSync(file);
  });

  test('a module with no SIMD: exit 1, file untouched', () => {
    const file = write('plain.wasm', noSimdModule());
    const r = cli(file);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(`patch_relaxed_simd: ${file}: no placeholder (i16x8.narrow_i32x4_u, i16x8.q15mulr_sat_s) and no relaxed op found; expected a relaxed-SIMD build\n`);
    expect(Array.from(fs.readFileSync(file))).toEqual(Array.from(noSimdModule()));
  });

  test('--allow-none: a module with no SIMD is left as is, exit 0', () => {
    const file = write('plain_allowed.wasm', noSimdModule());
    expect(cli('--allow-none', file)).toEqual({
      code: 0,
      stdout: `patch_relaxed_simd: ${file}: no relaxed kernels, left as is\n`,
      stderr: '',
    });
    expect(Array.from(fs.readFileSync(file))).toEqual(Array.from(noSimdModule()));
  });

  test('a malformed module: exit 1, file untouched', () => {
    const bad = dotModule(PLACEHOLDER).subarray(0, 60);
    const file = write('bad.wasm', bad);
    const r = cli(file);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^patch_relaxed_simd: .*bad\.wasm: truncated.*at byte offset \d+\n$/);
    expect(Array.from(fs.readFileSync(file))).toEqual(Array.from(bad));
  });

  test('no arguments: usage, exit 1', () => {
    expect(cli()).toEqual({ code: 1, stdout: '', stderr: 'usage: node tools/patch_relaxed_simd.mjs [--allow-none] FILE.wasm...\n' });
  });

  test('importing the module has no side effects', () => {
    const file = write('import.wasm', dotModule(PLACEHOLDER));
    const r = spawnSync(process.execPath, ['-e', `import(${JSON.stringify(TOOL)}).then((m) => console.log(typeof m.patchRelaxedSimd))`, file], { encoding: 'utf8' });
    expect({ code: r.status, stdout: r.stdout }).toEqual({ code: 0, stdout: 'function\n' });
    expect(Array.from(fs.readFileSync(file))).toEqual(Array.from(dotModule(PLACEHOLDER)));
  });
});
