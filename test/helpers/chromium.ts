/**
 * Starts Debian's Chromium (`apt-get install chromium`) through playwright-core, headless,
 * in a fresh profile. A missing browser is a failure with the command that fixes it,
 * never a skip: CI installs it (.ci/run).
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import type { BrowserContext } from 'playwright-core';

export const CHROMIUM_PATH = '/usr/bin/chromium';

export interface Chromium {
  context: BrowserContext;
  close(): Promise<void>;
}

export interface LaunchOptions {
  /** 'block' starts the browser with service workers refused (default: allowed). */
  serviceWorkers?: 'allow' | 'block';
}

export async function launchChromium(opts: LaunchOptions = {}): Promise<Chromium> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(`${CHROMIUM_PATH} is missing: install it with ` +
      '`apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium` (.ci/run does this)');
  }
  const profile = mkdtempSync(join(tmpdir(), 'vbus-chromium-'));
  // A persistent context because the profile directory is ours (playwright refuses
  // --user-data-dir in plain launch args).
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
    ],
    viewport: { width: 1100, height: 760 },
    serviceWorkers: opts.serviceWorkers ?? 'allow',
  });
  return {
    context,
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
