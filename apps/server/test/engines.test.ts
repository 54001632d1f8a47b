import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import semver from 'semver';
import { expect, it } from 'vitest';

/**
 * `npm install` on the README's minimum Node version prints no EBADENGINE warning: every package
 * the lockfile installs accepts that version. The minimum is read from the README's own sentence
 * and must equal the root package.json's `engines.node`.
 */
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

function readmeMinimumNode(): string {
  const readme = readFileSync(path.join(root, 'README.md'), 'utf8');
  const match = /Needs Node\.js (\d+\.\d+) or later/.exec(readme);
  if (match === null) throw new Error('README.md no longer says which Node.js version it needs');
  return `${match[1]}.0`;
}

it("the README's minimum Node version is the root package's engines.node", () => {
  const manifest = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { engines: { node: string } };
  expect(manifest.engines.node).toBe(`>=${readmeMinimumNode().replace(/\.0$/, '')}`);
});

it("every package in the lockfile accepts the README's minimum Node version", () => {
  const minimum = readmeMinimumNode();
  const lock = JSON.parse(readFileSync(path.join(root, 'package-lock.json'), 'utf8')) as {
    packages: Record<string, { engines?: { node?: string } | string[]; optional?: boolean; dev?: boolean }>;
  };
  const refusing: string[] = [];
  for (const [location, entry] of Object.entries(lock.packages)) {
    const engines = entry.engines;
    if (engines === undefined || Array.isArray(engines) || engines.node === undefined) continue;
    if (!semver.satisfies(minimum, engines.node, { includePrerelease: true })) {
      refusing.push(`${location || '(root)'} requires node ${engines.node}`);
    }
  }
  expect(refusing).toEqual([]);
});
