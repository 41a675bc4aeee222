// A small static file server for the browser tests (and demos): serves
// folders on 127.0.0.1 only, optionally with the headers that make a page
// cross-origin isolated (needed later for SharedArrayBuffer / wasm threads).
//
//   import { startServer } from './server.mjs';
//   const server = await startServer({ root, mounts: { '/nibble/': distDir }, crossOriginIsolated: true });
//   ... server.url ('http://127.0.0.1:PORT/') ... await server.close();
//
// Alone: node tests/browser/server.mjs [--port 8080] [--coi] [root]
//   (default root: the repository, so /dist/ and /tests/ are reachable)
import { createReadStream, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { dirname, extname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const MIME = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.cjs': 'text/javascript; charset=utf-8',
  '.json': 'application/json',
  '.css': 'text/css',
  '.wasm': 'application/wasm',
  '.map': 'application/json',
  '.txt': 'text/plain; charset=utf-8',
};

// URL path -> file path: the longest mount prefix wins; '/' maps to root.
// Returns null for paths that would leave their folder.
function fileFor(urlPath, folders) {
  const prefix = Object.keys(folders)
    .filter((p) => urlPath.startsWith(p))
    .sort((a, b) => b.length - a.length)[0];
  const base = resolve(folders[prefix]);
  let rest;
  try {
    rest = decodeURIComponent(urlPath.slice(prefix.length));
  } catch {
    return null;
  }
  const file = resolve(base, `.${sep}${rest}`);
  if (file !== base && !file.startsWith(base + sep)) return null;
  return file;
}

export function startServer({ root, mounts = {}, crossOriginIsolated = false, port = 0, log = false } = {}) {
  const folders = { '/': root, ...mounts };
  const server = createServer((req, res) => {
    const urlPath = new URL(req.url, 'http://127.0.0.1').pathname;
    let file = fileFor(urlPath, folders);
    let stat = null;
    try {
      stat = file && statSync(file);
      if (stat && stat.isDirectory()) {
        file = join(file, 'index.html');
        stat = statSync(file);
      }
    } catch {
      stat = null;
    }
    const headers = { 'Cache-Control': 'no-store' };
    if (crossOriginIsolated) {
      headers['Cross-Origin-Opener-Policy'] = 'same-origin';
      headers['Cross-Origin-Embedder-Policy'] = 'require-corp';
      headers['Cross-Origin-Resource-Policy'] = 'same-origin';
    }
    if (log) console.log(req.method, urlPath, stat ? 200 : 404);
    if (!stat || (req.method !== 'GET' && req.method !== 'HEAD')) {
      res.writeHead(stat ? 405 : 404, { ...headers, 'Content-Type': 'text/plain' });
      res.end(stat ? 'method not allowed' : 'not found');
      return;
    }
    res.writeHead(200, {
      ...headers,
      'Content-Type': MIME[extname(file)] ?? 'application/octet-stream',
      'Content-Length': stat.size,
    });
    if (req.method === 'HEAD') res.end();
    // 1 MiB reads rather than the default 64 KiB: serving a 400 MB model
    // takes half the CPU, which the browser on the same cores would miss.
    else createReadStream(file, { highWaterMark: 1 << 20 }).pipe(res);
  });
  return new Promise((resolvePromise, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      const url = `http://127.0.0.1:${server.address().port}/`;
      resolvePromise({ url, close: () => new Promise((done) => server.close(() => done())) });
    });
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  let port = 8080, crossOriginIsolated = false;
  let root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
  const args = process.argv.slice(2);
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--port') port = Number(args[++i]);
    else if (args[i] === '--coi') crossOriginIsolated = true;
    else root = args[i];
  }
  const { url } = await startServer({ root, port, crossOriginIsolated, log: true });
  console.log(`serving ${resolve(root)} at ${url}`);
}
