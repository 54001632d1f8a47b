import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startNetworkSimulator, type NetworkSimulator } from '../../src/modules/cards/index.js';
import { parseVaultKeys, vaultKeys, type VaultKeys } from '../../src/modules/cards/vault/index.js';
import type { ServiceOptions } from '../../src/services.js';
import { startPlatform, type TestPlatform } from './platform.js';

/** Fresh vault keys: one key-encryption key and one fingerprint key, 32 random bytes each. */
export function testVaultKeys(): VaultKeys {
  const key = () => randomBytes(32).toString('base64');
  return vaultKeys(parseVaultKeys(`kek1:${key()}`, 'kek1'), parseVaultKeys(`fp1:${key()}`, 'fp1'));
}

export interface CardTestPlatform {
  platform: TestPlatform;
  simulator: NetworkSimulator;
  simulatorDataDir: string;
  /** Stops the simulator (crash-like) and starts it again on the same port and data directory. */
  restartSimulator(options?: { downMs?: number }): Promise<void>;
  close(): Promise<void>;
}

/** The platform with card payments, wired to a card network simulator on a free loopback port. */
export async function startCardPlatform(
  options: Partial<Omit<ServiceOptions, 'db' | 'ledger' | 'cards'>> & {
    requestTimeoutMs?: number;
    webDir?: string;
  } = {},
): Promise<CardTestPlatform> {
  const simulatorDataDir = mkdtempSync(path.join(tmpdir(), 'yunpay-network-sim-'));
  let simulator = await startNetworkSimulator({ port: 0, dataDir: simulatorDataDir });
  const port = simulator.port;
  const { requestTimeoutMs, ...serviceOptions } = options;
  const platform = await startPlatform({
    ...serviceOptions,
    cards: {
      vaultKeys: testVaultKeys(),
      network: { host: '127.0.0.1', port, requestTimeoutMs: requestTimeoutMs ?? 2_000, poolSize: 2 },
    },
  });
  const handle: CardTestPlatform = {
    platform,
    simulator,
    simulatorDataDir,
    async restartSimulator(restartOptions = {}) {
      await simulator.stop();
      if ((restartOptions.downMs ?? 0) > 0) {
        await new Promise((resolve) => setTimeout(resolve, restartOptions.downMs));
      }
      simulator = await startNetworkSimulator({ port, dataDir: simulatorDataDir });
      handle.simulator = simulator;
    },
    async close() {
      await platform.close();
      await simulator.stop();
      rmSync(simulatorDataDir, { recursive: true, force: true });
    },
  };
  return handle;
}
