// The browser for the browser tests: found, or installed where this machine allows it.
//
// `npm test` runs `node scripts/chromium.mjs --ensure` first (the root `pretest`), so a fresh
// clone gets its browser without a separate step; the test support (apps/server/test/support/
// browser.ts) calls findChromium() to launch the same one. Plain JavaScript because it runs before
// anything is built, on any Node.js the README allows.
import { execFileSync, spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { homedir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Names looked up on PATH, in order, after the explicit variables and /usr/bin/chromium. */
const commandNames = ['chromium', 'chromium-browser', 'google-chrome', 'google-chrome-stable'];
/** Debian's font with Chinese glyphs: without it the zh-CN screenshots show empty boxes. */
const cjkFontPackage = 'fonts-wqy-microhei';
export const chromiumInstruction =
  'No Chromium for the browser tests: install one (Debian/Ubuntu: sudo apt-get install -y chromium; elsewhere: npx playwright-core install chromium) or set CHROMIUM_PATH to its executable.';

function isExecutable(file) {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function onPath(name) {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (dir === '') continue;
    const file = path.join(dir, name);
    if (isExecutable(file)) return file;
  }
  return null;
}

/** Chromium builds in Playwright's browser cache (PLAYWRIGHT_BROWSERS_PATH or ~/.cache/ms-playwright). */
function playwrightCacheBrowsers() {
  const found = [];
  try {
    // The revision this playwright-core expects comes first.
    const { chromium } = createRequire(import.meta.url)('playwright-core');
    found.push(chromium.executablePath());
  } catch {
    // playwright-core not installed yet (pretest before npm install): only the cache scan remains.
  }
  const cache = process.env.PLAYWRIGHT_BROWSERS_PATH || path.join(homedir(), '.cache', 'ms-playwright');
  let entries;
  try {
    entries = readdirSync(cache)
      .filter((name) => name.startsWith('chromium-'))
      .sort()
      .reverse();
  } catch {
    return found;
  }
  for (const entry of entries) {
    for (const relative of ['chrome-linux64/chrome', 'chrome-linux/chrome'])
      found.push(path.join(cache, entry, relative));
  }
  return found;
}

/**
 * The Chromium to drive: CHROMIUM_PATH (or the older YUNPAY_CHROMIUM_PATH), then /usr/bin/chromium,
 * chromium-browser, google-chrome on PATH, then Playwright's browser cache. Null when there is none.
 * A variable that names a file that is not executable is an error, not a fallback: the caller asked
 * for that browser.
 */
export function findChromium() {
  for (const variable of ['CHROMIUM_PATH', 'YUNPAY_CHROMIUM_PATH']) {
    const value = process.env[variable];
    if (value === undefined || value === '') continue;
    if (!isExecutable(value)) throw new Error(`${variable}=${value} is not an executable file.`);
    return value;
  }
  if (isExecutable('/usr/bin/chromium')) return '/usr/bin/chromium';
  for (const name of commandNames) {
    const file = onPath(name);
    if (file !== null) return file;
  }
  for (const file of playwrightCacheBrowsers()) if (isExecutable(file)) return file;
  return null;
}

function osRelease() {
  try {
    return readFileSync('/etc/os-release', 'utf8');
  } catch {
    return '';
  }
}

function isDebianLike() {
  return existsSync('/etc/debian_version') || /^ID(_LIKE)?=.*\b(debian|ubuntu)\b/m.test(osRelease());
}

/** How to run a command as root without asking: directly as root, or by `sudo -n`; null if neither. */
function rootRunner() {
  if (typeof process.getuid === 'function' && process.getuid() === 0) return [];
  if (onPath('sudo') !== null && spawnSync('sudo', ['-n', 'true'], { stdio: 'ignore' }).status === 0) {
    return ['sudo', '-n'];
  }
  return null;
}

function run(argv, env = {}) {
  const [command, ...args] = argv;
  const result = spawnSync(command, args, {
    stdio: ['ignore', 'inherit', 'inherit'],
    env: { ...process.env, ...env },
  });
  return result.status === 0;
}

function hasDebianPackage(name) {
  try {
    const status = execFileSync('dpkg-query', ['-W', '-f=${Status}', name], { stdio: ['ignore', 'pipe', 'ignore'] });
    return status.toString().includes('install ok installed');
  } catch {
    return false;
  }
}

function installWithApt(runner) {
  const packages = ['chromium'];
  if (!hasDebianPackage(cjkFontPackage)) packages.push(cjkFontPackage);
  console.log(`chromium: installing ${packages.join(' ')} with apt-get`);
  const env = { DEBIAN_FRONTEND: 'noninteractive' };
  if (!run([...runner, 'apt-get', 'update', '-qq'], env)) return false;
  return run([...runner, 'apt-get', 'install', '-y', '-qq', '--no-install-recommends', ...packages], env);
}

function installWithPlaywright() {
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
  let cli;
  try {
    cli = createRequire(path.join(root, 'package.json')).resolve('playwright-core/cli.js');
  } catch {
    return false;
  }
  console.log("chromium: installing Playwright's Chromium (playwright-core install chromium)");
  return run([process.execPath, cli, 'install', 'chromium']);
}

/** Finds Chromium, installs it where it can; returns its path or exits at once with one line. */
export function ensureChromium() {
  let found = findChromium();
  if (found !== null) return found;
  const runner = isDebianLike() ? rootRunner() : null;
  if (runner !== null && installWithApt(runner)) found = findChromium();
  if (found === null && installWithPlaywright()) found = findChromium();
  return found;
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  if (process.argv.includes('--ensure')) {
    let found;
    try {
      found = ensureChromium();
    } catch (error) {
      console.error(error instanceof Error ? error.message : String(error));
      process.exit(1);
    }
    if (found === null) {
      console.error(chromiumInstruction);
      process.exit(1);
    }
    const version = spawnSync(found, ['--version'], { encoding: 'utf8' }).stdout?.trim();
    console.log(`chromium: ${found}${version ? ` (${version})` : ''}`);
  } else {
    const found = findChromium();
    if (found === null) {
      console.error(chromiumInstruction);
      process.exit(1);
    }
    console.log(found);
  }
}
