import { randomBytes } from 'node:crypto';

/**
 * Sortable ids: a ULID (48-bit millisecond time + 80 random bits, Crockford base32, 26 chars), monotonic
 * within one process so ids made in the same millisecond still sort in creation order. An optional
 * prefix says what the id names (`evt_…`, `dlv_…`). Sorting by id is sorting by creation time, which the
 * cursor pagination of the admin API relies on.
 */
const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

let lastTime = -1;
const lastRandom = new Uint8Array(10);

function incrementRandom(): void {
  for (let i = lastRandom.length - 1; i >= 0; i--) {
    const value = lastRandom[i]!;
    if (value < 255) {
      lastRandom[i] = value + 1;
      return;
    }
    lastRandom[i] = 0;
  }
}

export function ulid(now: number = Date.now()): string {
  if (now <= lastTime) {
    incrementRandom();
  } else {
    lastTime = now;
    lastRandom.set(randomBytes(10));
  }
  let out = '';
  let time = lastTime;
  for (let i = 0; i < 10; i++) {
    out = ALPHABET[time % 32] + out;
    time = Math.floor(time / 32);
  }
  // 80 random bits -> 16 base32 chars, 5 bits at a time.
  let bits = 0;
  let acc = 0;
  for (const byte of lastRandom) {
    acc = (acc << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      out += ALPHABET[(acc >> bits) & 31];
    }
    acc &= (1 << bits) - 1;
  }
  return out;
}

export function newId(prefix: string, now?: number): string {
  return `${prefix}_${ulid(now)}`;
}

/**
 * The smallest id `newId(prefix, ms)` can make: ids compare as their creation times, so a time range is
 * an id range (`id >= idFloor('evt', since)`), which the primary key answers without another index.
 */
export function idFloor(prefix: string, ms: number): string {
  let time = Math.max(0, Math.min(Math.floor(ms), 2 ** 48 - 1));
  let out = '';
  for (let i = 0; i < 10; i++) {
    out = ALPHABET[time % 32] + out;
    time = Math.floor(time / 32);
  }
  return `${prefix}_${out}${'0'.repeat(16)}`;
}

/**
 * The id of the `n`th row made at `ms`, whatever ids this process made before: for rows written with
 * times of their own (a benchmark's seeding, a test's). `newId` cannot: it is monotonic, so an earlier
 * time than its last one gets that last time.
 */
export function idAt(prefix: string, ms: number, n: number): string {
  return idFloor(prefix, ms).slice(0, -16) + String(n).padStart(16, '0');
}

/** When an id of `newId` was made (ms): the inverse of `idFloor`. */
export function idTime(id: string): number {
  const start = id.indexOf('_') + 1;
  let time = 0;
  for (const c of id.slice(start, start + 10)) time = time * 32 + ALPHABET.indexOf(c);
  return time;
}
