import { tmpdir } from 'node:os';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/core/config/index.js';
import { formatRecord } from '../../src/core/log-format.js';
import { createLogger } from '../../src/core/logger.js';

function sink(isTTY: boolean) {
  const lines: string[] = [];
  return { lines, stream: { isTTY, write: (text: string) => lines.push(text) } };
}

describe('log format', () => {
  it('writes readable lines on a terminal: time, level, module, message, then key=value fields', () => {
    const out = sink(true);
    const logger = createLogger({ destination: out.stream, format: 'auto' }).child({ module: 'delivery' });
    logger.warn({ deliveryId: 'dl_1', status: 503, note: 'two words' }, 'attempt failed');
    expect(out.lines).toHaveLength(1);
    const line = out.lines[0] ?? '';
    expect(line).toMatch(
      /^\S*\d\d:\d\d:\d\d\.\d{3}\S* \S*WARN \S* \S*delivery:\S* attempt failed .*deliveryId=\S*dl_1/,
    );
    expect(line).toContain('503');
    expect(line).toContain('"two words"');
    expect(line).not.toContain('"level"');
  });

  it('writes JSON when the destination is not a terminal', () => {
    const out = sink(false);
    createLogger({ destination: out.stream, format: 'auto' }).info({ eventId: 'ev_1' }, 'stored');
    const record = JSON.parse(out.lines[0] ?? '{}') as Record<string, unknown>;
    expect(record).toMatchObject({ level: 30, msg: 'stored', eventId: 'ev_1' });
  });

  it('obeys an explicit format either way', () => {
    const tty = sink(true);
    createLogger({ destination: tty.stream, format: 'json' }).info('x');
    expect(() => JSON.parse(tty.lines[0] ?? '')).not.toThrow();
    const pipe = sink(false);
    createLogger({ destination: pipe.stream, format: 'pretty' }).info('hello');
    expect(pipe.lines[0]).toMatch(/INFO {2}hello\n$/);
  });

  it('keeps secrets censored in pretty lines too', () => {
    const out = sink(true);
    createLogger({ destination: out.stream, format: 'pretty' }).info(
      { headers: { authorization: 'Bearer s3cret' }, token: 'tok' },
      'call',
    );
    expect(out.lines[0]).not.toContain('s3cret');
    expect(out.lines[0]).not.toContain('tok"');
    expect(out.lines[0]).toContain('[redacted]');
  });

  it('prints an error with its code and stack indented below the line', () => {
    const err = Object.assign(new Error('boom'), { code: 'UPSTREAM_5XX' });
    const text = formatRecord({
      level: 50,
      time: 0,
      msg: 'failed',
      err: { ...err, message: err.message, stack: err.stack },
    });
    const [head, ...rest] = text.split('\n');
    expect(head).toBe('00:00:00.000 ERROR failed code=UPSTREAM_5XX');
    expect(rest[0]).toBe('    Error: boom');
    expect(rest.every((line) => line.startsWith('    '))).toBe(true);
  });

  it('reads PATCHBAY_LOG_FORMAT into the config and refuses an unknown format by name', async () => {
    const json = await loadConfig({ env: { PATCHBAY_LOG_FORMAT: 'json' }, cwd: tmpdir() });
    expect(json.config.log.format).toBe('json');
    await expect(loadConfig({ env: { PATCHBAY_LOG_FORMAT: 'fancy' }, cwd: tmpdir() })).rejects.toThrow(
      /log.*format|fancy/,
    );
  });
});
