// Debian's Firefox ESR, driven by puppeteer-core over WebDriver BiDi (the
// Playwright of the Chromium tests cannot drive a stock Firefox). $FIREFOX
// overrides the path.
import puppeteer from 'puppeteer-core';

export function launchFirefox() {
  return puppeteer.launch({
    browser: 'firefox',
    protocol: 'webDriverBiDi',
    executablePath: process.env.FIREFOX ?? '/usr/bin/firefox-esr',
    headless: true,
  });
}

// Collects what a page says and does: console lines ('type: text'), console
// errors and uncaught errors, and requests whose URL starts with none of
// `allowed` (nothing should leave the test server).
export function watchPage(page, allowed) {
  const seen = { console: [], errors: [], outside: [] };
  page.on('console', (msg) => {
    seen.console.push(`${msg.type()}: ${msg.text()}`);
    if (msg.type() === 'error') seen.errors.push(`console.error: ${msg.text()}`);
  });
  page.on('pageerror', (e) => seen.errors.push(String(e)));
  page.on('request', (req) => {
    if (!allowed.some((prefix) => req.url().startsWith(prefix))) seen.outside.push(req.url());
  });
  return seen;
}
