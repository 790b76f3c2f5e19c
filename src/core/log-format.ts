import type { DestinationStream } from 'pino';

/** How log lines are written: `pretty` for people, `json` for machines, `auto` picks by the terminal. */
export type LogFormat = 'auto' | 'pretty' | 'json';

const LEVELS: Record<number, { name: string; color: string }> = {
  10: { name: 'TRACE', color: '90' },
  20: { name: 'DEBUG', color: '36' },
  30: { name: 'INFO ', color: '32' },
  40: { name: 'WARN ', color: '33' },
  50: { name: 'ERROR', color: '31' },
  60: { name: 'FATAL', color: '35' },
};
// Fields every line has, or that the line's head shows; the rest follow as key=value.
const HEAD = new Set(['level', 'time', 'pid', 'hostname', 'msg', 'module', 'name', 'err']);

/** Where formatted lines go: stdout, stderr, or a test's capture. */
export interface LineSink {
  write(text: string): unknown;
  isTTY?: boolean;
}

export interface PrettyOptions {
  /** ANSI colours. Defaults to on for a TTY unless `NO_COLOR` is set (https://no-color.org). */
  color?: boolean;
}

/**
 * A pino destination writing one readable line per record: `12:04:05.123 WARN  delivery: message
 * key=value …`, an error's stack indented below. It formats what pino already serialised and redacted,
 * so nothing censored in JSON reappears here.
 */
export function prettyStream(out: LineSink, options: PrettyOptions = {}): DestinationStream {
  const color = options.color ?? (out.isTTY === true && !process.env.NO_COLOR);
  const paint = (code: string, text: string) => (color ? `\x1b[${code}m${text}\x1b[0m` : text);
  return {
    write(line: string) {
      let record: Record<string, unknown>;
      try {
        record = JSON.parse(line) as Record<string, unknown>;
      } catch {
        out.write(line);
        return;
      }
      out.write(`${formatRecord(record, paint)}\n`);
    },
  };
}

export function formatRecord(
  record: Record<string, unknown>,
  paint: (code: string, text: string) => string = (_, text) => text,
): string {
  const level = LEVELS[Number(record.level)] ?? { name: String(record.level).padEnd(5), color: '0' };
  const time = typeof record.time === 'number' ? new Date(record.time).toISOString().slice(11, 23) : '';
  const who = record.module ?? record.name;
  const fields = Object.entries(record)
    .filter(([key]) => !HEAD.has(key))
    .map(([key, value]) => `${paint('90', `${key}=`)}${fieldValue(value)}`);
  const head = [
    paint('90', time),
    paint(level.color, level.name),
    ...(who !== undefined ? [paint('1', `${String(who)}:`)] : []),
    String(record.msg ?? ''),
  ].join(' ');
  const err = record.err as { type?: string; message?: string; code?: string; stack?: string } | undefined;
  const stack =
    err === undefined ? [] : (err.stack ?? `${err.type ?? 'Error'}: ${err.message ?? ''}`).split('\n');
  const below = stack.map((line) => `\n    ${line}`).join('');
  const code = err?.code !== undefined ? ` ${paint('90', 'code=')}${err.code}` : '';
  return `${head}${fields.length > 0 ? ` ${fields.join(' ')}` : ''}${code}${below}`;
}

function fieldValue(value: unknown): string {
  if (typeof value === 'string') return /^[^\s"=]+$/.test(value) ? value : JSON.stringify(value);
  return JSON.stringify(value) ?? String(value);
}

/** `auto` means pretty on a terminal, JSON otherwise (a pipe, a file, a container's log driver). */
export function resolveLogFormat(format: LogFormat, out: { isTTY?: boolean }): 'pretty' | 'json' {
  if (format !== 'auto') return format;
  return out.isTTY === true ? 'pretty' : 'json';
}
