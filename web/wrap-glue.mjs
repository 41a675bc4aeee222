// Turns Emscripten's classic (UMD) glue script into the two module forms the
// JS API loads, and copies the .wasm beside them:
//   <name>.mjs   ES module, `export default createNibbleWasm`
//   <name>.cjs   CommonJS,  `module.exports = createNibbleWasm`
// Called by bindings/CMakeLists.txt after linking:
//   node web/wrap-glue.mjs build/.../nibble-simd.js dist/
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';

const EXPORT_NAME = 'createNibbleWasm';
// Emscripten 3.1.6 ends a MODULARIZE build with this UMD export block; it is
// replaced so that an AMD `define` on a page is never called.
const UMD_TAIL = "if (typeof exports === 'object' && typeof module === 'object')";

const [gluePath, distDir] = process.argv.slice(2);
if (!gluePath || !distDir) {
  console.error('usage: node web/wrap-glue.mjs <emscripten output .js> <dist dir>');
  process.exit(2);
}

const glue = readFileSync(gluePath, 'utf8');
const tail = glue.lastIndexOf(UMD_TAIL);
if (tail < 0 || !glue.includes(`var ${EXPORT_NAME}`)) {
  console.error(`${gluePath}: not an Emscripten MODULARIZE build named ${EXPORT_NAME} (UMD tail not found)`);
  process.exit(1);
}
const body = glue.slice(0, tail).trimEnd() + '\n';
const name = basename(gluePath, '.js');
mkdirSync(distDir, { recursive: true });
writeFileSync(join(distDir, `${name}.mjs`), `${body}export default ${EXPORT_NAME};\n`);
writeFileSync(join(distDir, `${name}.cjs`), `${body}module.exports = ${EXPORT_NAME};\n`);
copyFileSync(gluePath.replace(/\.js$/, '.wasm'), join(distDir, `${name}.wasm`));
