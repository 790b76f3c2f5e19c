import { randomBytes } from 'node:crypto';
import {
  closeSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  statSync,
  writeSync,
} from 'node:fs';
import { dirname, resolve } from 'node:path';
import { ErrorCode, errorMessage, PatchbayError } from '../core/errors.js';
import { formatKey, generateKey, type KeyEntry, parseKeyList } from './key-material.js';

export const KEY_ENV = 'PATCHBAY_ENCRYPTION_KEY';
export const KEY_FILE_ENV = 'PATCHBAY_ENCRYPTION_KEY_FILE';
/** Name of the key file Patchbay generates (and rotates) in the data directory. */
export const GENERATED_KEY_FILE = 'encryption.key';

/**
 * Where this process's keys come from. Keys given by the operator (`env`, `file`) are theirs: Patchbay
 * never writes them. The `generated` file in the data directory is Patchbay's own, and rotation edits it.
 */
export interface KeySource {
  kind: 'env' | 'file' | 'generated';
  /** For messages: `PATCHBAY_ENCRYPTION_KEY`, `PATCHBAY_ENCRYPTION_KEY_FILE (/etc/…)`, the file path. */
  description: string;
  path?: string;
  /** Reads the keys again (a file may have gained a key since start). */
  read(): KeyEntry[];
}

export interface KeySourceOptions {
  env: Record<string, string | undefined>;
  /** Where the generated key file lives. Defaults to `./.patchbay`. */
  dataDir?: string;
}

export function generatedKeyPath(dataDir = './.patchbay'): string {
  return resolve(dataDir, GENERATED_KEY_FILE);
}

function readKeyFile(path: string, description: string): KeyEntry[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new PatchbayError(
      ErrorCode.ENCRYPTION_KEY_INVALID,
      `cannot read ${description}: ${errorMessage(err)}`,
      {
        cause: err,
      },
    );
  }
  const keys = parseKeyList(text, description);
  if (keys.length === 0) {
    throw new PatchbayError(ErrorCode.ENCRYPTION_KEY_INVALID, `${description} holds no key`);
  }
  return keys;
}

/** True when group or others may read the file (a key file should be 0600). */
export function isWorldReadable(path: string): boolean {
  try {
    return process.platform !== 'win32' && (statSync(path).mode & 0o077) !== 0;
  } catch {
    return false;
  }
}

/**
 * The configured source of keys, or undefined when none is configured and no generated file exists
 * yet (the caller decides whether a key may be generated: only for a database holding no secrets).
 */
export function findKeySource(options: KeySourceOptions): KeySource | undefined {
  const inline = options.env[KEY_ENV]?.trim();
  const file = options.env[KEY_FILE_ENV]?.trim();
  if (inline && file) {
    throw new PatchbayError(
      ErrorCode.ENCRYPTION_KEY_INVALID,
      `both ${KEY_ENV} and ${KEY_FILE_ENV} are set; set only one`,
    );
  }
  if (inline) {
    const keys = parseKeyList(inline, KEY_ENV);
    if (keys.length === 0)
      throw new PatchbayError(ErrorCode.ENCRYPTION_KEY_INVALID, `${KEY_ENV} holds no key`);
    return { kind: 'env', description: KEY_ENV, read: () => keys };
  }
  if (file) {
    const path = resolve(file);
    const description = `${KEY_FILE_ENV} (${path})`;
    readKeyFile(path, description);
    return { kind: 'file', description, path, read: () => readKeyFile(path, description) };
  }
  const path = generatedKeyPath(options.dataDir);
  try {
    statSync(path);
  } catch {
    return undefined;
  }
  return { kind: 'generated', description: path, path, read: () => readKeyFile(path, path) };
}

const HEADER = [
  '# Patchbay encryption keys. Keep this file secret (mode 0600) and back it up with the database:',
  '# without it the stored credentials cannot be decrypted. The first key is the newest; the others',
  '# only decrypt data not yet re-encrypted by `patchbay keys rotate`.',
];

/** Writes a key file atomically (temp file, fsync, rename) with mode 0600. */
export function writeKeyFile(path: string, keys: readonly KeyEntry[]): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  const fd = openSync(tmp, 'wx', 0o600);
  try {
    writeSync(fd, `${[...HEADER, ...keys.map(formatKey)].join('\n')}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}

/**
 * Creates the generated key file with one new key, exclusively: when two processes start at once on a
 * fresh data directory, one creates it and the other reads it. Returns whether this call created it.
 */
export function createGeneratedKeyFile(
  dataDir: string | undefined,
  random: (size: number) => Buffer = randomBytes,
): { source: KeySource; created: boolean } {
  const path = generatedKeyPath(dataDir);
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const entry = generateKey(random);
  let created = false;
  try {
    const fd = openSync(path, 'wx', 0o600);
    try {
      writeSync(fd, `${[...HEADER, formatKey(entry)].join('\n')}\n`);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    created = true;
  } catch (err) {
    if ((err as { code?: string }).code !== 'EEXIST') {
      throw new PatchbayError(
        ErrorCode.ENCRYPTION_KEY_INVALID,
        `cannot create the key file ${path}: ${errorMessage(err)}`,
        { cause: err },
      );
    }
  }
  return {
    source: { kind: 'generated', description: path, path, read: () => readKeyFile(path, path) },
    created,
  };
}
