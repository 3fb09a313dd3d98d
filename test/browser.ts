/**
 * Chromium for the browser tests: Debian's /usr/bin/chromium driven by playwright-core (no browser
 * download). Missing, the tests are skipped with a loud message, except under CI=true.
 */
import { existsSync } from 'node:fs';
import { type Browser, chromium } from 'playwright-core';
import { IN_CI } from '../tools/services.js';

export const CHROMIUM = '/usr/bin/chromium';

const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** The `skip` option of a browser suite: false when Chromium is installed. */
export function chromiumSkip(): false | string {
  if (existsSync(CHROMIUM)) return false;
  const message = `${CHROMIUM} is missing`;
  if (IN_CI) throw new Error(`${message} — CI=true requires it (.ci/run installs chromium)`);
  const reason = `SKIPPED: ${message}; install Debian's chromium to run the browser tests`;
  process.stderr.write(`\n!!! ${reason} !!!\n\n`);
  return reason;
}

/** Starts a headless Chromium. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: ARGS, timeout: 20_000 });
}
