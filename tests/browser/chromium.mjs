// Debian's Chromium, launched with the flags of TOOLCHAIN.md (Playwright's own
// browser downloads do not work on these machines). $CHROMIUM overrides the path.
import { chromium } from 'playwright-core';

// The omnibox popup's WebUI pages: without them off, every new browser
// context (a window) starts two chrome://omnibox-popup.top-chrome renderers
// that take ~0.8 s of CPU in their first ~0.75 s (Chromium 156 here), which a
// page's work then shares the machine's cores with (the model bench's
// Qwen2.5-0.5B-shaped load: 0.87× the time, 12 alternating rounds).
export const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--disable-features=WebUIOmniboxPopup,WebUIOmniboxFullPopup,WebUIOmniboxAimPopup',
];

export const CHROMIUM_EXECUTABLE = process.env.CHROMIUM ?? '/usr/bin/chromium';

export function launchChromium() {
  return chromium.launch({ executablePath: CHROMIUM_EXECUTABLE, args: CHROMIUM_ARGS });
}

// Collects what a page says and does: console lines (text), uncaught errors,
// and requests to anywhere but `origin` (nothing should leave the test server).
export function watchPage(page, origin) {
  const seen = { console: [], errors: [], outside: [] };
  page.on('console', (msg) => seen.console.push(msg.text()));
  page.on('pageerror', (e) => seen.errors.push(String(e)));
  page.on('request', (req) => {
    if (!req.url().startsWith(origin)) seen.outside.push(req.url());
  });
  return seen;
}
