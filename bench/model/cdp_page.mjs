// Chromium driven over the DevTools protocol directly, for the model bench's
// timed pages. Playwright enables the protocol's Network domain on every page
// it drives, and with it on Chromium posts two main-thread tasks per 64 KiB
// network read (~12,000 of the ~13,000 tasks of a traced 396 MB model load)
// to report them to the (absent) DevTools front end; a user's browser runs
// none of them. Here a page gets only the Runtime and Page domains (errors,
// console errors, navigation) and what a caller enables itself.
//
//   const browser = await launchCdpChromium();
//   const page = await browser.newPage();        // a fresh browser context each
//   await page.goto(url, 'window.pageReady === true');
//   const r = await page.evaluate((a) => window.run(a), arg, { timeoutMs });
//   await page.close(); await browser.close();
//
// Same executable and flags as the tests' Playwright launch
// (tests/browser/chromium.mjs), plus a throwaway profile folder and the
// protocol on a pipe (fds 3 and 4, NUL-separated JSON messages).
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { CHROMIUM_ARGS, CHROMIUM_EXECUTABLE } from '../../tests/browser/chromium.mjs';

const DEFAULT_TIMEOUT_MS = 30000;
// What a timed page's work (a model load and its generations) gets: a
// Qwen-shaped load and generation take ~10-30 s on a busy machine.
export const PAGE_WORK_TIMEOUT_MS = 600000;

// An Error for a failed or timed-out protocol command, naming the command.
const commandError = (method, message) => new Error(`CDP ${method}: ${message}`);

class CdpBrowser {
  constructor(child, profileDir) {
    this.child = child;
    this.profileDir = profileDir;
    this.nextId = 1;
    this.pending = new Map();    // command id -> { resolve, reject, method, timer, sessionId }
    this.sessions = new Map();   // sessionId -> CdpPage (its events)
    this.stderrTail = '';
    this.gone = null;            // why Chromium is no longer there (see failPending)
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.failPending(`Chromium exited (${signal ?? `code ${code}`}): ${this.stderrTail.slice(-1000)}`);
        resolve();
      });
      child.once('error', (e) => {
        this.failPending(`Chromium (${CHROMIUM_EXECUTABLE}) failed: ${e.message}`);
        resolve();
      });
    });
    child.stdio[3]?.on('error', () => {});  // EPIPE once it exits: reported above
    child.stdio[4]?.setEncoding('utf8');
    child.stderr.on('data', (d) => { this.stderrTail = (this.stderrTail + d).slice(-4000); });
    let buffered = '';
    child.stdio[4]?.on('data', (data) => {
      buffered += data;
      let end;
      while ((end = buffered.indexOf('\0')) >= 0) {
        this.onMessage(JSON.parse(buffered.slice(0, end)));
        buffered = buffered.slice(end + 1);
      }
    });
  }

  // Fails the commands still waiting: all once Chromium is gone (or could
  // not be started), or one page's (it crashed).
  failPending(why, sessionId = null) {
    if (sessionId === null) this.gone = why;
    for (const [id, p] of this.pending) {
      if (sessionId !== null && p.sessionId !== sessionId) continue;
      this.pending.delete(id);
      clearTimeout(p.timer);
      p.reject(commandError(p.method, why));
    }
  }

  onMessage(message) {
    if (message.id !== undefined) {
      const p = this.pending.get(message.id);
      if (!p) return;
      this.pending.delete(message.id);
      clearTimeout(p.timer);
      if (message.error) p.reject(commandError(p.method, message.error.message));
      else p.resolve(message.result);
    } else if (message.sessionId) {
      this.sessions.get(message.sessionId)?.onEvent(message.method, message.params);
    }
  }

  // One command (to the browser, or to a page's session), its result.
  send(method, params = {}, { sessionId, timeoutMs = DEFAULT_TIMEOUT_MS } = {}) {
    if (this.gone) return Promise.reject(commandError(method, this.gone));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(commandError(method, `no answer in ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, { resolve, reject, method, timer, sessionId });
      this.child.stdio[3]?.write(`${JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) })}\0`);
    });
  }

  // A page in a browser context of its own (no HTTP cache, no Cache Storage
  // shared with another page), attached with a flat session.
  async newPage() {
    const { browserContextId } = await this.send('Target.createBrowserContext', { disposeOnDetach: true });
    const { targetId } = await this.send('Target.createTarget', { url: 'about:blank', browserContextId });
    const { sessionId } = await this.send('Target.attachToTarget', { targetId, flatten: true });
    const page = new CdpPage(this, sessionId, browserContextId);
    this.sessions.set(sessionId, page);
    await Promise.all([page.send('Runtime.enable'), page.send('Page.enable')]);
    return page;
  }

  // id -> { type, cpu (s) } of the browser's processes (CDP SystemInfo).
  async processCpu() {
    const { processInfo } = await this.send('SystemInfo.getProcessInfo');
    return new Map(processInfo.map((p) => [p.id, { type: p.type, cpu: p.cpuTime }]));
  }

  // Closes Chromium (killed if it does not exit within 10 s) and removes
  // its profile folder.
  async close() {
    if (!this.gone) {
      this.send('Browser.close').catch(() => {});
      const killer = setTimeout(() => this.child.kill('SIGKILL'), 10000);
      await this.exited;
      clearTimeout(killer);
    }
    rmSync(this.profileDir, { recursive: true, force: true });
  }
}

class CdpPage {
  constructor(browser, sessionId, browserContextId) {
    this.browser = browser;
    this.sessionId = sessionId;
    this.browserContextId = browserContextId;
    this.errors = [];           // uncaught exceptions and console.error lines
    this.listeners = new Map(); // event method -> [callback]
    this.crashed = null;
    this.url = 'about:blank';
    this.on('Runtime.exceptionThrown', ({ exceptionDetails: d }) =>
      this.errors.push(d.exception?.description ?? d.text));
    this.on('Runtime.consoleAPICalled', ({ type, args }) => {
      if (type === 'error') this.errors.push(args.map((a) => a.value ?? a.description ?? '').join(' '));
    });
    this.on('Inspector.targetCrashed', () => {
      this.crashed = new Error(`the page ${this.url} crashed${this.errors.length ? `: ${this.errors.join('; ')}` : ''}`);
      browser.failPending(this.crashed.message, sessionId);
    });
  }

  on(method, callback) {
    this.listeners.set(method, [...(this.listeners.get(method) ?? []), callback]);
  }

  // A promise of the next `method` event's params (rejected after timeoutMs).
  nextEvent(method, timeoutMs) {
    return new Promise((resolve, reject) => {
      const once = (params) => {
        clearTimeout(timer);
        this.listeners.set(method, this.listeners.get(method).filter((c) => c !== once));
        resolve(params);
      };
      const timer = setTimeout(() => reject(new Error(`no ${method} in ${timeoutMs} ms`)), timeoutMs);
      this.on(method, once);
    });
  }

  onEvent(method, params) {
    for (const callback of this.listeners.get(method) ?? []) callback(params);
  }

  send(method, params = {}, options = {}) {
    if (this.crashed) return Promise.reject(this.crashed);
    return this.browser.send(method, params, { ...options, sessionId: this.sessionId });
  }

  // Navigates, waits for the load event and then (polling) until
  // `readyExpression` is true in the page.
  async goto(url, readyExpression, { timeoutMs = DEFAULT_TIMEOUT_MS } = {}) {
    this.url = url;
    const loaded = this.nextEvent('Page.loadEventFired', timeoutMs);
    loaded.catch(() => {});  // awaited below, unless the navigation fails first
    const { errorText } = await this.send('Page.navigate', { url });
    if (errorText) throw new Error(`${url} did not load: ${errorText}`);
    const waitForReady = `new Promise((resolve) => { const check = () => (${readyExpression}) ? resolve(true) : setTimeout(check, 20); check(); })`;
    try {
      await loaded;
      await this.evaluateExpression(waitForReady, timeoutMs);
    } catch (e) {
      throw new Error(`${url} did not get ready (${readyExpression}): ${[...this.errors, e.message].join('; ')}`);
    }
  }

  // { name: value } of the named Performance.getMetrics values (after
  // send('Performance.enable')), an Error if one is missing: TaskDuration,
  // the main thread's busy time (time the OS gave to other threads
  // included), and ThreadTime, its CPU time, in seconds.
  async metrics(...names) {
    const all = new Map((await this.send('Performance.getMetrics')).metrics.map((m) => [m.name, m.value]));
    return Object.fromEntries(names.map((name) => {
      if (!all.has(name)) throw new Error(`the page ${this.url} reports no ${name} metric`);
      return [name, all.get(name)];
    }));
  }

  // Calls `fn(arg)` in the page (arg and result as JSON), awaiting its promise.
  evaluate(fn, arg, { timeoutMs = DEFAULT_TIMEOUT_MS } = {}) {
    return this.evaluateExpression(`(${fn})(${JSON.stringify(arg)})`, timeoutMs);
  }

  async evaluateExpression(expression, timeoutMs) {
    const { result, exceptionDetails } = await this.send('Runtime.evaluate',
      { expression, awaitPromise: true, returnByValue: true }, { timeoutMs }).catch((e) => {
      throw new Error(`in the page ${this.url}: ${e.message}`);
    });
    if (exceptionDetails) {
      const errors = this.errors.length ? ` (the page's errors: ${this.errors.join('; ')})` : '';
      throw new Error(`in the page ${this.url}: ${exceptionDetails.exception?.description ?? exceptionDetails.text}${errors}`);
    }
    return result.value;
  }

  // window[name](...args) in the page (this document and later ones) -> a
  // promise of `fn(...args)` run here (JSON in and out), through a Runtime
  // binding (as Playwright's exposeFunction).
  async exposeFunction(name, fn) {
    const binding = `__cdpBinding_${name}`;
    this.on('Runtime.bindingCalled', async ({ name: called, payload, executionContextId }) => {
      if (called !== binding) return;
      const { id, args } = JSON.parse(payload);
      let settle;
      try {
        settle = `resolve(${JSON.stringify(await fn(...args))})`;
      } catch (e) {
        settle = `reject(new Error(${JSON.stringify(e.message)}))`;
      }
      await this.send('Runtime.evaluate', { expression: `window.${binding}_calls.get(${id}).${settle}`, contextId: executionContextId })
        .catch(() => {});  // the page navigated away meanwhile
    });
    await this.send('Runtime.addBinding', { name: binding });
    const install = `(() => {
      const calls = window.${binding}_calls = new Map();
      let next = 0;
      window[${JSON.stringify(name)}] = (...args) => new Promise((resolve, reject) => {
        const id = next++;
        calls.set(id, { resolve: (v) => { calls.delete(id); resolve(v); }, reject: (e) => { calls.delete(id); reject(e); } });
        window.${binding}(JSON.stringify({ id, args }));
      });
    })()`;
    await this.send('Page.addScriptToEvaluateOnNewDocument', { source: install });
    await this.evaluateExpression(install, DEFAULT_TIMEOUT_MS);
  }

  // Closes the page's browser context (and with it the page).
  async close() {
    this.browser.sessions.delete(this.sessionId);
    await this.browser.send('Target.disposeBrowserContext', { browserContextId: this.browserContextId });
  }
}

// Launches Chromium with the protocol on a pipe; resolves once it answers.
export async function launchCdpChromium() {
  const profileDir = mkdtempSync(path.join(tmpdir(), 'nibble-cdp-'));
  const child = spawn(CHROMIUM_EXECUTABLE,
    [...CHROMIUM_ARGS, `--user-data-dir=${profileDir}`, '--remote-debugging-pipe', 'about:blank'],
    { stdio: ['ignore', 'ignore', 'pipe', 'pipe', 'pipe'] });
  const browser = new CdpBrowser(child, profileDir);
  try {
    await browser.send('Browser.getVersion');
  } catch (e) {
    await browser.close();
    throw e;
  }
  return browser;
}
