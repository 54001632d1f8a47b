import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createScratchPostgresDatabase, testStore } from './support/db.js';
import { toForm } from './support/merchant.js';
import {
  createIso8583Message,
  Iso8583FrameReader,
  packIso8583Frame,
  unpackIso8583,
} from '../src/modules/cards/iso8583/index.js';

const serverDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
// Inside apps/server so that the compiled files resolve node_modules like dist/ does.
const buildDir = path.join(serverDir, 'test-artifacts', `cli-build-${process.pid}`);
const entry = path.join(buildDir, 'src', 'main.js');

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** The child's environment: ours minus every variable the CLI reads, plus the given ones. */
function childEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  const read = /^(PORT|HOST|DATABASE_URL|DATABASE_POOL_SIZE|LOG_LEVEL|YUNPAY_.*)$/;
  for (const [name, value] of Object.entries(process.env)) if (!read.test(name)) env[name] = value;
  return { ...env, ...extra };
}

function run(args: readonly string[], env: Record<string, string>): Promise<Exit> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [entry, ...args], { env: childEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('expected a TCP address');
  return address.port;
}

interface Started {
  child: ChildProcess;
  banner: string;
  exited: Promise<Exit>;
}

/** Starts `yunpay start` and resolves once the banner is complete. */
function start(env: Record<string, string>): Promise<Started> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [entry, 'start'], { env: childEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let announced = false;
    const exited = new Promise<Exit>((resolveExit) => {
      child.on('close', (code, signal) => resolveExit({ code, signal, stdout, stderr }));
    });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`no banner within 90 s; stdout: ${stdout}; stderr: ${stderr}`));
    }, 90_000);
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      if (!announced && stdout.includes('Stop with Ctrl-C')) {
        announced = true;
        clearTimeout(timer);
        resolve({ child, banner: stdout, exited });
      }
    });
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    void exited.then((exit) => {
      clearTimeout(timer);
      if (!announced) reject(new Error(`exited before the banner (${exit.code}); stderr: ${exit.stderr}`));
    });
  });
}

describe('yunpay CLI (compiled, run with node)', () => {
  const dataDirs: string[] = [];
  const drops: (() => Promise<void>)[] = [];

  function tempDataDir(): string {
    const directory = mkdtempSync(path.join(tmpdir(), 'yunpay-cli-'));
    dataDirs.push(directory);
    return directory;
  }

  /** DATABASE_URL for a fresh scratch database on the postgres store; nothing (embedded) otherwise. */
  async function storeEnv(): Promise<Record<string, string>> {
    if (testStore() !== 'postgres') return {};
    const scratch = await createScratchPostgresDatabase();
    drops.push(() => scratch.drop());
    return { DATABASE_URL: scratch.url };
  }

  beforeAll(() => {
    const tsc = path.join(
      path.dirname(createRequire(import.meta.url).resolve('typescript/package.json')),
      'bin',
      'tsc',
    );
    const build = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json', '--outDir', buildDir], {
      cwd: serverDir,
      encoding: 'utf8',
    });
    if (build.status !== 0) throw new Error(`tsc failed:\n${build.stdout}\n${build.stderr}`);
  });

  afterAll(async () => {
    for (const drop of drops) await drop();
    for (const directory of dataDirs) rmSync(directory, { recursive: true, force: true });
    rmSync(buildDir, { recursive: true, force: true });
  });

  it('start prints the banner, serves /healthz and /readyz, and exits 0 on SIGTERM', async () => {
    const dataDir = tempDataDir();
    const port = await freePort();
    const started = await start({
      ...(await storeEnv()),
      YUNPAY_DATA_DIR: dataDir,
      PORT: String(port),
      LOG_LEVEL: 'info',
      YUNPAY_NETWORK_PORT: '0',
    });
    try {
      const base = `http://127.0.0.1:${port}`;
      expect(started.banner).toContain(`API            ${base}`);
      expect(started.banner).toContain(`Health         ${base}/healthz`);
      expect(started.banner).toContain(`Metrics        ${base}/metrics`);
      const token = /Admin token {4}([A-Za-z0-9_-]{43})/.exec(started.banner)?.[1];
      expect(token).toBeDefined();
      expect(readFileSync(path.join(dataDir, 'admin-token'), 'utf8').trim()).toBe(token);
      expect(statSync(path.join(dataDir, 'admin-token')).mode & 0o777).toBe(0o600);
      if (testStore() === 'embedded') {
        expect(started.banner).toContain('PGlite) does not fsync');
        expect(existsSync(path.join(dataDir, 'yunpay.lock'))).toBe(true);
      } else {
        expect(started.banner).not.toContain('does not fsync');
      }

      const health = await fetch(`${base}/healthz`);
      expect(health.status).toBe(200);
      expect(await health.json()).toEqual({ status: 'ok' });
      expect((await fetch(`${base}/readyz`)).status).toBe(200);
      const verify = await fetch(`${base}/admin/v1/ledger/verify`, { headers: { authorization: `Bearer ${token}` } });
      expect(verify.status).toBe(200);

      // Role all runs the card network simulator in process: a card payment goes over ISO 8583 and back.
      expect(started.banner).toMatch(/Card network {3}ISO 8583 simulator at 127\.0\.0\.1:\d+ \(in process\)/);
      expect(statSync(path.join(dataDir, 'vault-keys.json')).mode & 0o777).toBe(0o600);
      const merchant = await fetch(`${base}/admin/v1/merchants`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'CLI shop', country: 'CN', default_currency: 'CNY', mcc: '5812' }),
      });
      const secretKey = ((await merchant.json()) as { secret_key: string }).secret_key;
      const paid = await fetch(`${base}/v1/payment_intents`, {
        method: 'POST',
        headers: { authorization: `Bearer ${secretKey}`, 'content-type': 'application/x-www-form-urlencoded' },
        body: toForm({ amount: 1_000, currency: 'cny', payment_method: 'pm_card_visa', confirm: true }),
      });
      expect(((await paid.json()) as { status: string }).status).toBe('succeeded');

      started.child.kill('SIGTERM');
      const exit = await started.exited;
      expect(exit.code).toBe(0);
      expect(exit.stdout).toContain('"msg":"shut down cleanly"');
      // JSON log lines carry the request id of the request they belong to.
      const requestLine = exit.stdout
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line) as Record<string, unknown>)
        .find((line) => line.msg === 'request completed');
      expect(requestLine?.request_id).toMatch(/^req_/);
      // The lock is released, so the next start on this directory works.
      expect(existsSync(path.join(dataDir, 'yunpay.lock'))).toBe(false);
    } finally {
      started.child.kill('SIGKILL');
    }
  });

  it.skipIf(testStore() !== 'embedded')('a second start on a locked data dir fails with one clear line', async () => {
    const dataDir = tempDataDir();
    const started = await start({ YUNPAY_DATA_DIR: dataDir, PORT: String(await freePort()), YUNPAY_NETWORK_PORT: '0' });
    try {
      const second = await run(['start'], {
        YUNPAY_DATA_DIR: dataDir,
        PORT: String(await freePort()),
        YUNPAY_NETWORK_PORT: '0',
      });
      expect(second.code).toBe(1);
      expect(second.stderr.trim().split('\n')).toHaveLength(1);
      expect(second.stderr).toContain(`is in use by process ${started.child.pid ?? ''}`);
      expect(second.stderr).not.toContain('    at ');
    } finally {
      started.child.kill('SIGTERM');
      expect((await started.exited).code).toBe(0);
    }
  });

  it('role network-sim serves ISO 8583 alone, survives malformed frames, and exits 0 on SIGTERM', async () => {
    const dataDir = tempDataDir();
    const networkPort = await freePort();
    const started = await start({
      YUNPAY_ROLE: 'network-sim',
      YUNPAY_NETWORK_PORT: String(networkPort),
      YUNPAY_DATA_DIR: dataDir,
    });
    try {
      expect(started.banner).toContain(`Card network   ISO 8583 over TCP at 127.0.0.1:${networkPort}`);
      expect(started.banner).not.toContain('API ');
      // Garbage: a zero length prefix, then bytes that are no message at all. The connection is closed.
      const closed = await new Promise<boolean>((resolve) => {
        const socket = connect(networkPort, '127.0.0.1', () => socket.write(Buffer.from([0, 0, 1, 2, 3, 4])));
        socket.on('close', () => resolve(true));
        socket.on('error', () => undefined);
        setTimeout(() => resolve(false), 5_000);
      });
      expect(closed).toBe(true);
      // The simulator still answers a well-formed echo on a new connection.
      const echo = await new Promise<string>((resolve, reject) => {
        const reader = new Iso8583FrameReader();
        const socket = connect(networkPort, '127.0.0.1', () =>
          socket.write(packIso8583Frame(createIso8583Message('0800', { 7: '1123120000', 11: '000001', 70: '301' }))),
        );
        socket.on('data', (chunk: Buffer) => {
          for (const body of reader.push(chunk)) {
            const response = unpackIso8583(body);
            socket.destroy();
            resolve(`${response.mti}:${response.fields.get(39) ?? ''}`);
          }
        });
        socket.on('error', reject);
      });
      expect(echo).toBe('0810:00');
      started.child.kill('SIGTERM');
      expect((await started.exited).code).toBe(0);
    } finally {
      started.child.kill('SIGKILL');
    }
  });

  it('cards rewrap moves every stored card to the current vault key and says so', async () => {
    const key = () => Buffer.from(Array.from({ length: 32 }, () => Math.floor(Math.random() * 256))).toString('base64');
    const env = {
      ...(await storeEnv()),
      YUNPAY_DATA_DIR: tempDataDir(),
      YUNPAY_VAULT_KEYS: `old:${key()},new:${key()}`,
      YUNPAY_VAULT_KEY_ID: 'new',
      YUNPAY_VAULT_FINGERPRINT_KEY: `fp:${key()}`,
    };
    const exit = await run(['cards', 'rewrap'], env);
    expect(exit.stderr).toBe('');
    expect(exit.code).toBe(0);
    expect(exit.stdout).toContain('Current key: new');
    expect(exit.stdout).not.toContain(env.YUNPAY_VAULT_KEYS.split(',')[0]!.slice(4));
  });

  it('migrate applies the migrations once and reports them', async () => {
    const env = { ...(await storeEnv()), YUNPAY_DATA_DIR: tempDataDir() };
    const first = await run(['migrate'], env);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    const firstReport = JSON.parse(first.stdout) as { applied: string[]; already_applied_count: number };
    expect(firstReport.applied.length).toBeGreaterThan(0);
    expect(firstReport.already_applied_count).toBe(0);
    const second = await run(['migrate'], env);
    expect(second.code).toBe(0);
    expect(JSON.parse(second.stdout)).toMatchObject({ applied: [], already_applied_count: firstReport.applied.length });
  });

  it('ledger verify exits 0 with a clean report on a fresh data dir', async () => {
    const exit = await run(['ledger', 'verify'], { ...(await storeEnv()), YUNPAY_DATA_DIR: tempDataDir() });
    expect(exit.stderr).toBe('');
    expect(exit.code).toBe(0);
    const report = JSON.parse(exit.stdout) as { ok: boolean; checks: { ok: boolean }[] };
    expect(report.ok).toBe(true);
    expect(report.checks.length).toBeGreaterThanOrEqual(4);
  });

  it('ledger verify exits 1 with one line when the database is unreachable', async () => {
    const port = await freePort(); // nothing listens there
    const exit = await run(['ledger', 'verify'], {
      DATABASE_URL: `postgres://postgres@127.0.0.1:${port}/nothing`,
      YUNPAY_DATA_DIR: tempDataDir(),
    });
    expect(exit.code).toBe(1);
    expect(exit.stderr).toMatch(/^yunpay: ledger verify failed: .*ECONNREFUSED/);
    expect(exit.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('invalid configuration exits 78 with one line naming every bad variable', async () => {
    const exit = await run(['start'], {
      PORT: 'eighty',
      YUNPAY_ROLE: 'boss',
      YUNPAY_TRUST_PROXY: 'true',
      YUNPAY_DATA_DIR: tempDataDir(),
    });
    expect(exit.code).toBe(78);
    expect(exit.stderr.trim().split('\n')).toHaveLength(1);
    expect(exit.stderr).toContain('PORT must be an integer');
    expect(exit.stderr).toContain('YUNPAY_ROLE must be one of all, api, worker, network-sim');
    expect(exit.stderr).toContain('YUNPAY_TRUST_PROXY=true would let any client choose its own IP address');
    expect(exit.stdout).toBe('');
  });

  it('unknown commands print usage on stderr and exit 64; help exits 0', async () => {
    const unknown = await run(['launch'], {});
    expect(unknown.code).toBe(64);
    expect(unknown.stderr).toContain('unknown command "launch"');
    expect(unknown.stderr).toContain('Usage: yunpay <command>');
    expect((await run(['ledger', 'frobnicate'], {})).code).toBe(64);
    const none = await run([], {});
    expect(none.code).toBe(64);
    expect(none.stdout).toBe('');
    expect(none.stderr).toContain('Usage: yunpay <command>');

    const help = await run(['help'], {});
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('ledger verify');
    expect(help.stdout).toContain('YUNPAY_ADMIN_TOKEN');
  });
});
