// A screenshot of an exported site generating in headless Chromium (how docs/export-web.png was made):
//   node scripts/screenshot.mjs SITE OUT.png "PROMPT" TEMPERATURE
// Prints the page's model line, its tokens/s and the text.
import { chromium } from 'playwright-core';
import { serveSite } from '@cs336/web';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
const [site, out, prompt, temperature] = process.argv.slice(2);
const server = await serveSite(site, {});
const context = await chromium.launchPersistentContext(fs.mkdtempSync(path.join(os.tmpdir(), 'chromium-')), { executablePath: process.env.CS336_CHROMIUM ?? '/usr/bin/chromium', headless: true, viewport: { width: 1000, height: 640 },
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'] });
const page = await context.newPage();
await page.goto(server.url);
await page.waitForSelector('#status[data-state="ready"]', { timeout: 60000 });
await page.fill('#temperature', temperature);
await page.fill('#max-tokens', '90');
await page.fill('#seed', '1');
await page.fill('#prompt', prompt);
await page.waitForSelector('#status[data-state="done"]', { timeout: 120000 });
console.log(await page.textContent('#model-info'));
console.log(await page.textContent('#status'));
console.log(await page.textContent('#output'));
await page.screenshot({ path: out, fullPage: true });
await context.close();
await server.close();
