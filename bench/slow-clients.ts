/**
 * Slow and silent clients against the default `server.limits`: 5,000 hostile connections held open (they
 * reconnect as soon as the server closes them) while a second client sends signed GitHub webhooks on
 * fresh connections at a steady rate. Prints the webhooks' status and latency beside the same sender on
 * a quiet server (the baseline, same run), the server's peak RSS, and what became of the attackers.
 * Loopback only; bounded in count (ATTACKERS) and time (SECONDS).
 *
 *   npx tsx bench/slow-clients.ts      # ATTACKERS=5000 SECONDS=30 RATE=50 RSS_BOUND_MB=400
 *
 * The attackers (from 50 loopback addresses, 100 each, under the per-address cap):
 * - silent: connect and send nothing;
 * - slow headers: one byte of a request line every second;
 * - slow body: headers declaring 512 KiB, then one body byte a second;
 * - stalled upload (200 of them, like the 600 MB report): headers declaring 1 MiB, all but the last byte
 *   sent at once, then nothing.
 * Needs about ATTACKERS + 500 open files in this process (`ulimit -n`).
 */
import { type ChildProcess, fork } from 'node:child_process';
import { createHmac, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { median, percentile, printTable } from './util.js';

const ATTACKERS = Number(process.env.ATTACKERS ?? 5000);
const SECONDS = Number(process.env.SECONDS ?? 30);
const RATE = Number(process.env.RATE ?? 50);
const RSS_BOUND_MB = Number(process.env.RSS_BOUND_MB ?? 400);
const STALLED_UPLOADS = Number(process.env.STALLED_UPLOADS ?? Math.min(200, Math.floor(ATTACKERS / 10)));
const SECRET = randomBytes(20).toString('hex');

function openFileLimit(): number | undefined {
  try {
    const line = readFileSync('/proc/self/limits', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('Max open files'));
    const soft = line?.split(/\s{2,}/)[1];
    return soft === undefined || soft === 'unlimited' ? undefined : Number(soft);
  } catch {
    return undefined;
  }
}

const limit = openFileLimit();
if (limit !== undefined && limit < ATTACKERS + 500) {
  console.error(
    `bench/slow-clients needs ${ATTACKERS + 500} open files, the limit is ${limit}: run \`ulimit -n ${ATTACKERS + 1000}\` first (Node cannot raise it itself), or set ATTACKERS lower`,
  );
  process.exit(2);
}

/** What the server process reports of itself. */
interface Stats {
  rssPeak: number;
  loopBusy: number;
  cpuMs: number;
  loopDelayP99Ms: number;
}

interface Server {
  child: ChildProcess;
  port: number;
  ask<T>(message: object, key: string): Promise<T>;
}

async function startServer(dataDir: string): Promise<Server> {
  const child = fork(
    new URL('./slow-clients-server.ts', import.meta.url).pathname,
    [`sqlite://${join(dataDir, 'bench.db')}`, SECRET, dataDir],
    { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] },
  );
  const port = await new Promise<number>((resolve, reject) => {
    child.once('message', (m: { port: number }) => resolve(m.port));
    child.once('exit', (code) => reject(new Error(`the server exited with ${code}`)));
  });
  return {
    child,
    port,
    ask: <T>(message: object, key: string) =>
      new Promise<T>((resolve) => {
        const onMessage = (m: Record<string, unknown>) => {
          if (!(key in m)) return;
          child.off('message', onMessage);
          resolve(m as T);
        };
        child.on('message', onMessage);
        child.send(message);
      }),
  };
}

// ---- the legitimate sender: signed webhooks, one fresh connection each, open loop at RATE per second

interface SendResult {
  status: number;
  ms: number;
}

function sendWebhook(port: number, id: string): Promise<SendResult> {
  const body = JSON.stringify({ action: 'opened', number: id, repository: { full_name: 'acme/shop' } });
  const signature = `sha256=${createHmac('sha256', SECRET).update(body).digest('hex')}`;
  const started = performance.now();
  return new Promise((resolve) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        method: 'POST',
        path: '/webhooks/bench',
        agent: false,
        headers: {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
          'x-github-delivery': id,
          'x-github-event': 'pull_request',
          'x-hub-signature-256': signature,
        },
        // A provider waits 10 s at most (GitHub); anything slower is a failure here too.
        timeout: 10_000,
      },
      (res) => {
        res.resume();
        res.once('end', () => resolve({ status: res.statusCode ?? 0, ms: performance.now() - started }));
      },
    );
    req.once('timeout', () => req.destroy(new Error('timeout')));
    req.once('error', () => resolve({ status: 0, ms: performance.now() - started }));
    req.end(body);
  });
}

async function sendFor(port: number, seconds: number, tag: string): Promise<SendResult[]> {
  const pending: Promise<SendResult>[] = [];
  const total = Math.round(seconds * RATE);
  const start = performance.now();
  for (let i = 0; i < total; i++) {
    const due = start + (i * 1000) / RATE;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    pending.push(sendWebhook(port, `${tag}-${i}`));
  }
  return Promise.all(pending);
}

// ---- the attackers

type Kind = 'silent' | 'slow headers' | 'slow body' | 'stalled upload';

interface AttackStats {
  opened: number;
  open: number;
  ended: Record<string, number>;
}

function attack(port: number, count: number): { stats: AttackStats; stop: () => void } {
  const stats: AttackStats = { opened: 0, open: 0, ended: {} };
  let stopped = false;
  const sockets = new Set<Socket>();
  const kinds: Kind[] = [];
  for (let i = 0; i < count; i++) {
    if (i < STALLED_UPLOADS) kinds.push('stalled upload');
    else kinds.push((['silent', 'silent', 'slow headers', 'slow body'] as const)[i % 4]!);
  }
  const stalledBody = Buffer.alloc(1024 * 1024 - 1, 'x');

  const run = (kind: Kind, localAddress: string) => {
    if (stopped) return;
    const socket = connect({ host: '127.0.0.1', port, localAddress });
    sockets.add(socket);
    let received = '';
    let timer: NodeJS.Timeout | undefined;
    let connected = false;
    socket.on('data', (chunk) => {
      if (received.length < 64) received += String(chunk);
    });
    socket.on('error', () => {});
    socket.once('connect', () => {
      connected = true;
      stats.opened++;
      stats.open++;
      const trickle = (text: string) => {
        let i = 0;
        timer = setInterval(() => socket.write(text[i++ % text.length]!), 1000);
      };
      if (kind === 'slow headers') trickle('POST /webhooks/bench HTTP/1.1\r\nx-slow: ');
      if (kind === 'slow body') {
        socket.write(
          'POST /webhooks/bench HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\ncontent-length: 524288\r\n\r\n',
        );
        trickle('x');
      }
      if (kind === 'stalled upload') {
        socket.write(
          `POST /webhooks/bench HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\ncontent-length: ${stalledBody.length + 1}\r\n\r\n`,
        );
        socket.write(stalledBody);
      }
    });
    socket.once('close', () => {
      clearInterval(timer);
      sockets.delete(socket);
      if (connected) stats.open--;
      const status = /^HTTP\/1\.1 (\d{3})/.exec(received)?.[1] ?? 'closed';
      const key = `${kind}: ${status}`;
      stats.ended[key] = (stats.ended[key] ?? 0) + 1;
      // A refused attacker comes back after a second, any other at once: the pressure never lets up.
      setTimeout(() => run(kind, localAddress), status === '503' ? 1000 : 50).unref();
    });
  };

  for (const [i, kind] of kinds.entries()) run(kind, `127.0.2.${1 + Math.floor(i / 100)}`);
  return {
    stats,
    stop() {
      stopped = true;
      for (const socket of sockets) socket.destroy();
    },
  };
}

// ---- the run

function summary(results: SendResult[]) {
  const ok = results.filter((r) => r.status >= 200 && r.status < 300).length;
  const ms = results.map((r) => r.ms);
  return { sent: results.length, ok, p50: median(ms), p99: percentile(ms, 99), max: Math.max(...ms) };
}

const dataDir = mkdtempSync(join(tmpdir(), 'patchbay-bench-slow-'));
const server = await startServer(dataDir);
try {
  await sendFor(server.port, 2, 'warm');
  await server.ask({ resetPeak: true, rss: true }, 'rssPeak');
  const quiet = summary(await sendFor(server.port, Math.min(10, SECONDS), 'quiet'));
  const quietRss = await server.ask<Stats>({ rss: true }, 'rssPeak');

  await server.ask({ resetPeak: true, rss: true }, 'rssPeak');
  server.child.send({ profile: 'start' });
  const attackers = attack(server.port, ATTACKERS);
  const rampStart = performance.now();
  while (attackers.stats.opened < ATTACKERS && performance.now() - rampStart < 30_000) {
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const ramp = performance.now() - rampStart;
  const held: number[] = [];
  const sampler = setInterval(() => {
    void server.ask<{ connections: number }>({ connections: true }, 'connections').then((m) => {
      held.push(m.connections);
    });
  }, 1000);
  const underAttack = summary(await sendFor(server.port, SECONDS, 'attack'));
  clearInterval(sampler);
  server.child.send({ profile: 'stop' });
  const attackRss = await server.ask<Stats>({ rss: true }, 'rssPeak');
  const openAtEnd = attackers.stats.open;
  attackers.stop();

  const mb = (bytes: number) => (bytes / 1024 / 1024).toFixed(0);
  console.log(
    `\nslow clients: ${ATTACKERS} attackers (${STALLED_UPLOADS} stalled 1 MiB uploads), webhooks at ${RATE}/s on fresh connections, ${SECONDS} s under attack\n`,
  );
  printTable(
    [
      'phase',
      'webhooks',
      '2xx',
      'p50 ms',
      'p99 ms',
      'max ms',
      'p99 vs quiet',
      'server conns (median)',
      'RSS peak MB',
      'server loop busy',
      'server CPU ms per webhook',
    ],
    [
      [
        'quiet (baseline)',
        String(quiet.sent),
        String(quiet.ok),
        quiet.p50.toFixed(1),
        quiet.p99.toFixed(1),
        quiet.max.toFixed(0),
        '1.00×',
        '-',
        mb(quietRss.rssPeak),
        `${(quietRss.loopBusy * 100).toFixed(0)}%`,
        (quietRss.cpuMs / quiet.sent).toFixed(1),
      ],
      [
        `${ATTACKERS} slow/silent`,
        String(underAttack.sent),
        String(underAttack.ok),
        underAttack.p50.toFixed(1),
        underAttack.p99.toFixed(1),
        underAttack.max.toFixed(0),
        `${(underAttack.p99 / quiet.p99).toFixed(2)}×`,
        held.length > 0 ? String(median(held)) : '-',
        mb(attackRss.rssPeak),
        `${(attackRss.loopBusy * 100).toFixed(0)}%`,
        (attackRss.cpuMs / underAttack.sent).toFixed(1),
      ],
    ],
  );
  console.log(
    `\nattackers: all ${ATTACKERS} connected within ${(ramp / 1000).toFixed(1)} s; ${attackers.stats.opened} connections opened in all, ${openAtEnd} open at the end`,
  );
  const ended = Object.entries(attackers.stats.ended).sort();
  printTable(
    ['attacker: how the server ended it', 'connections'],
    ended.map(([k, v]) => [k, String(v)]),
  );
  const allOk = underAttack.ok === underAttack.sent;
  console.log(
    `\ntargets: every webhook 2xx ${allOk ? 'yes' : `NO (${underAttack.sent - underAttack.ok} failed)`}; p99 ≤ 1000 ms ${underAttack.p99 <= 1000 ? 'yes' : 'NO'}; RSS peak ≤ ${RSS_BOUND_MB} MB ${Number(mb(attackRss.rssPeak)) <= RSS_BOUND_MB ? 'yes' : 'NO'}`,
  );
} finally {
  server.child.kill('SIGTERM');
  if (server.child.exitCode === null) await once(server.child, 'exit');
  rmSync(dataDir, { recursive: true, force: true });
}
