import { X509Certificate, createPrivateKey } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname, networkInterfaces } from 'node:os';
import path from 'node:path';
import type { TlsConfig } from './config.js';
import { AppError } from './errors.js';
import { limits } from './limits.js';

/**
 * HTTPS for `yunpay start` (YUNPAY_TLS, YUNPAY_TLS_CERT_FILE, YUNPAY_TLS_KEY_FILE): a phone's
 * camera and a service worker need a secure context, so trying the wallet and the POS on a real
 * phone on the local network needs HTTPS.
 *
 * `self-signed` makes a certificate (ECDSA P-256, SHA-256) for `localhost`, this machine's host name
 * and every address it has, with the `selfsigned` library, and keeps it in `<data dir>/tls/`. It is
 * reused while it names every current address and is more than limits.tlsSelfSignedRenewBeforeDays
 * from expiry; otherwise it is made again (a laptop that moves to another network gets a new one).
 */

export interface TlsMaterial {
  cert: string;
  key: string;
  /** Where it came from, for the banner. */
  source: 'self-signed' | 'files';
  certFile: string;
  /** SHA-256 fingerprint, so that a user can check what the browser shows. */
  fingerprint256: string;
  validTo: Date;
  /** `created` when a self-signed certificate was made by this start. */
  created: boolean;
}

/** This machine's non-internal addresses (what a phone on the same network can reach). */
export function machineAddresses(): string[] {
  const addresses: string[] = [];
  for (const entries of Object.values(networkInterfaces())) {
    for (const entry of entries ?? []) {
      if (entry.internal) continue;
      // Link-local IPv6 needs a zone id that URLs and certificates cannot carry.
      if (entry.family === 'IPv6' && entry.address.toLowerCase().startsWith('fe80:')) continue;
      addresses.push(entry.address);
    }
  }
  return [...new Set(addresses)].slice(0, limits.tlsAddressesMax);
}

/** The names and addresses a self-signed certificate must cover now. */
export function certificateSubjects(): { dnsNames: string[]; ips: string[] } {
  const dnsNames = [...new Set(['localhost', hostname()].filter((name) => /^[A-Za-z0-9.-]{1,253}$/.test(name)))];
  return { dnsNames, ips: ['127.0.0.1', '::1', ...machineAddresses()] };
}

/** The DNS names and IP addresses a certificate's subjectAltName lists (IPv6 as Node prints it). */
function subjectAltNames(certificate: X509Certificate): { dnsNames: Set<string>; ips: Set<string> } {
  const dnsNames = new Set<string>();
  const ips = new Set<string>();
  for (const part of (certificate.subjectAltName ?? '').split(', ')) {
    if (part.startsWith('DNS:')) dnsNames.add(part.slice(4).toLowerCase());
    if (part.startsWith('IP Address:')) ips.add(normalizeIp(part.slice(11)));
  }
  return { dnsNames, ips };
}

/** Node prints IPv6 addresses in a certificate fully expanded (0:0:0:0:0:0:0:1); compare them so. */
function normalizeIp(ip: string): string {
  if (!ip.includes(':')) return ip;
  try {
    return new URL(`http://[${ip}]/`).hostname.slice(1, -1);
  } catch {
    return ip.toLowerCase();
  }
}

function covers(certificate: X509Certificate, wanted: { dnsNames: string[]; ips: string[] }): boolean {
  const names = subjectAltNames(certificate);
  return (
    wanted.dnsNames.every((name) => names.dnsNames.has(name.toLowerCase())) &&
    wanted.ips.every((ip) => names.ips.has(normalizeIp(ip)))
  );
}

function material(cert: string, key: string, source: TlsMaterial['source'], certFile: string, created: boolean) {
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(cert);
  } catch {
    throw new AppError('config_invalid', { message: `Invalid configuration: ${certFile} is not a PEM certificate.` });
  }
  let privateKey: ReturnType<typeof createPrivateKey>;
  try {
    privateKey = createPrivateKey(key);
  } catch {
    throw new AppError('config_invalid', {
      message: 'Invalid configuration: YUNPAY_TLS_KEY_FILE is not a PEM private key (without a passphrase).',
    });
  }
  if (!certificate.checkPrivateKey(privateKey)) {
    throw new AppError('config_invalid', {
      message: `Invalid configuration: the private key does not belong to the certificate in ${certFile}.`,
    });
  }
  return {
    cert,
    key,
    source,
    certFile,
    fingerprint256: certificate.fingerprint256,
    validTo: new Date(certificate.validTo),
    created,
  } satisfies TlsMaterial;
}

async function selfSigned(dataDir: string, nowMs: number): Promise<TlsMaterial> {
  const directory = path.join(dataDir, 'tls');
  const certFile = path.join(directory, 'cert.pem');
  const keyFile = path.join(directory, 'key.pem');
  const wanted = certificateSubjects();
  if (existsSync(certFile) && existsSync(keyFile)) {
    const cert = readFileSync(certFile, 'utf8');
    const key = readFileSync(keyFile, 'utf8');
    try {
      const certificate = new X509Certificate(cert);
      const renewAtMs = Date.parse(certificate.validTo) - limits.tlsSelfSignedRenewBeforeDays * 86_400_000;
      if (covers(certificate, wanted) && nowMs < renewAtMs) return material(cert, key, 'self-signed', certFile, false);
    } catch {
      // Unreadable: made again below.
    }
  }
  const notBeforeDate = new Date(nowMs - 60_000);
  const notAfterDate = new Date(nowMs + limits.tlsSelfSignedValidityDays * 86_400_000);
  // Loaded only when a certificate is made: the CLI's other commands do not pay for it.
  const { generate } = await import('selfsigned');
  const pems = await generate([{ name: 'commonName', value: 'Yunpay (self-signed, local network)' }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    notBeforeDate,
    notAfterDate,
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
      { name: 'extKeyUsage', serverAuth: true },
      {
        name: 'subjectAltName',
        altNames: [
          ...wanted.dnsNames.map((value) => ({ type: 2 as const, value })),
          ...wanted.ips.map((ip) => ({ type: 7 as const, ip })),
        ],
      },
    ],
  });
  mkdirSync(directory, { recursive: true, mode: 0o700 });
  writeFileSync(keyFile, pems.private, { mode: 0o600 });
  chmodSync(keyFile, 0o600);
  writeFileSync(certFile, pems.cert, { mode: 0o644 });
  return material(pems.cert, pems.private, 'self-signed', certFile, true);
}

/** The certificate and key to serve HTTPS with, or null for plain HTTP. */
export async function loadTls(
  config: { tls: TlsConfig; dataDir: string },
  nowMs: number = Date.now(),
): Promise<TlsMaterial | null> {
  const tls = config.tls;
  if (tls.kind === 'off') return null;
  if (tls.kind === 'self-signed') return selfSigned(config.dataDir, nowMs);
  const read = (file: string, variable: string): string => {
    try {
      return readFileSync(file, 'utf8');
    } catch (error) {
      const reason = (error as NodeJS.ErrnoException).code ?? 'unreadable';
      throw new AppError('config_invalid', { message: `Invalid configuration: ${variable} ${file}: ${reason}.` });
    }
  };
  return material(
    read(tls.certFile, 'YUNPAY_TLS_CERT_FILE'),
    read(tls.keyFile, 'YUNPAY_TLS_KEY_FILE'),
    'files',
    tls.certFile,
    false,
  );
}
