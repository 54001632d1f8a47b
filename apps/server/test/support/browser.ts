import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { chromiumInstruction, findChromium } from '../../../../scripts/chromium.mjs';

/**
 * Real-browser test support: the machine's Chromium driven by playwright-core (found or installed
 * by scripts/chromium.mjs), the web apps built by vite into a directory of this test file's own, screenshots kept
 * as test artifacts, and axe-core accessibility checks.
 */
const serverDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const webDir = path.resolve(serverDir, '../web');
export const screenshotDir = path.join(serverDir, 'test-artifacts', 'screenshots');

/**
 * The browser `npm test` made sure of (scripts/chromium.mjs, run as the root pretest). Never a
 * silent skip: without one, every browser test fails with the one-line instruction.
 */
export function chromiumPath(): string {
  const found = findChromium();
  if (found === null) throw new Error(chromiumInstruction);
  return found;
}

/** Builds apps/web into a fresh temporary directory (returned); remove it with removeWebBuild. */
export async function buildWeb(): Promise<string> {
  const outDir = mkdtempSync(path.join(tmpdir(), 'yunpay-web-'));
  const { build } = await import('vite');
  await build({
    // Production React (no development banner), as `npm run build` makes it.
    mode: 'production',
    configFile: path.join(webDir, 'vite.config.ts'),
    logLevel: 'warn',
    build: { outDir, emptyOutDir: true, sourcemap: false },
  });
  return outDir;
}

export function removeWebBuild(outDir: string): void {
  rmSync(outDir, { recursive: true, force: true });
}

/** `args` adds chromium switches, e.g. a fake camera playing a video file. */
export async function launchBrowser(options: { args?: readonly string[] } = {}): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumPath(),
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-dev-shm-usage',
      ...(options.args ?? []),
    ],
  });
}

/**
 * Saves a screenshot as test-artifacts/screenshots/<name>.png and returns its path: the full page,
 * or only the viewport (`fullPage: false`) for pages too tall to render whole.
 */
export async function screenshot(page: Page, name: string, options: { fullPage?: boolean } = {}): Promise<string> {
  mkdirSync(screenshotDir, { recursive: true });
  const file = path.join(screenshotDir, `${name.replace(/[^A-Za-z0-9_.-]/g, '-')}.png`);
  await page.screenshot({ path: file, fullPage: options.fullPage ?? true });
  return file;
}

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: unknown[] }[];
}

/** Runs axe-core in the page; returns the serious and critical violations (expect them to be []). */
export async function seriousA11yViolations(
  page: Page,
): Promise<{ id: string; impact: string; help: string; targets: string[] }[]> {
  const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
  // Evaluated over the DevTools protocol: pages under a strict CSP (no inline script) still run it.
  await page.evaluate(axeSource);
  const violations = await page.evaluate(async () => {
    const page = globalThis as unknown as {
      axe: { run: (context?: unknown) => Promise<{ violations: AxeViolation[] }> };
      document: unknown;
    };
    const result = await page.axe.run(page.document);
    return result.violations;
  });
  return violations
    .filter((violation) => violation.impact === 'serious' || violation.impact === 'critical')
    .map((violation) => ({
      id: violation.id,
      impact: violation.impact ?? '',
      help: violation.help,
      targets: violation.nodes.map((node) => JSON.stringify(node.target)),
    }));
}
