// A tiny static file server for the browser benchmarks, on 127.0.0.1 only.
// Responses carry COOP/COEP (and CORP) so pages are cross-origin isolated and
// could use SharedArrayBuffer; files outside `root` are never served, except
// the explicit `aliases` (URL path -> absolute file path), e.g. a model file
// kept outside the repository.
//
//   const server = await startServer({ root, aliases: { '/model.gguf': '/tmp/m.gguf' } });
//   server.url  // "http://127.0.0.1:PORT"
//   await server.close();
//
// Standalone: node bench/model/serve.mjs [port]   (serves the repository root)
import { createReadStream, statSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const MIME = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.cjs': 'text/javascript; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.wasm': 'application/wasm',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
};

const ISOLATION_HEADERS = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'Cache-Control': 'no-store',
};

// The file a URL path names, or null if it is outside root and not an alias.
function resolveFile(root, aliases, urlPath) {
  if (Object.prototype.hasOwnProperty.call(aliases, urlPath)) return aliases[urlPath];
  const file = path.resolve(root, '.' + urlPath);
  const rootWithSep = root.endsWith(path.sep) ? root : root + path.sep;
  return file.startsWith(rootWithSep) ? file : null;
}

export function startServer({ root, port = 0, aliases = {} } = {}) {
  const absRoot = path.resolve(root);
  const server = http.createServer((req, res) => {
    let urlPath;
    try {
      urlPath = decodeURIComponent(new URL(req.url, 'http://127.0.0.1').pathname);
    } catch {
      res.writeHead(400, ISOLATION_HEADERS).end('bad url');
      return;
    }
    const file = resolveFile(absRoot, aliases, urlPath);
    let stat = null;
    try {
      stat = file && statSync(file);
    } catch {
      stat = null;
    }
    if (!stat || !stat.isFile()) {
      res.writeHead(404, { ...ISOLATION_HEADERS, 'Content-Type': 'text/plain' }).end(`not found: ${urlPath}`);
      return;
    }
    res.writeHead(200, {
      ...ISOLATION_HEADERS,
      'Content-Type': MIME[path.extname(file)] ?? 'application/octet-stream',
      'Content-Length': stat.size,
    });
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    createReadStream(file).pipe(res);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      const { port: actual } = server.address();
      resolve({
        url: `http://127.0.0.1:${actual}`,
        close: () => new Promise((done) => server.close(() => done())),
      });
    });
  });
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
  const server = await startServer({ root, port: Number(process.argv[2] ?? 8080) });
  console.log(`serving ${root} at ${server.url}`);
}
