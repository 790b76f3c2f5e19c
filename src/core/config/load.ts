import { existsSync, readFileSync } from 'node:fs';
import { extname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { z } from 'zod';
import { ErrorCode, errorMessage, PatchbayError } from '../errors.js';
import { formatPath } from './format-path.js';
import { type InterpolationProblem, interpolate } from './interpolate.js';
import { literalSecretPaths } from './literal-secrets.js';
import { configSchema, type PatchbayConfig } from './schema.js';

export const CONFIG_FILE_NAMES = [
  'patchbay.config.yaml',
  'patchbay.config.yml',
  'patchbay.config.json',
  'patchbay.config.js',
  'patchbay.config.mjs',
];

export interface LoadedConfig {
  config: PatchbayConfig;
  /** The file read, if any. */
  file: string | undefined;
  /**
   * With `unsetVariables: 'leave-out'`: what was left out of the configuration because a variable it
   * references is not set, one plain line each (`sources[1] "gh" (GH_SECRET is not set)`).
   */
  leftOut?: string[];
  /**
   * Paths of secrets written in the file instead of as `${ENV}` references (`doctor` reports them);
   * undefined for a `.js` file, whose values are built in code.
   */
  literalSecrets?: string[];
}

export interface LoadConfigOptions {
  /** Explicit file; otherwise `PATCHBAY_CONFIG`, otherwise the first of CONFIG_FILE_NAMES in `cwd`. */
  file?: string;
  cwd?: string;
  env?: Record<string, string | undefined>;
  /**
   * What a `${VAR}` that is not set does. `fail` (the default, for processes that work: start, worker):
   * a problem naming the field and the variable, once. `leave-out` (commands that only read the store):
   * the source, destination or connection using it is left out, any other field is unset, and
   * `leftOut` says what; such a process must not send or sign anything.
   */
  unsetVariables?: 'fail' | 'leave-out';
}

const ENTITY_LISTS = new Set(['sources', 'destinations', 'connections']);

/** A config that failed validation; `problems` has one line per problem, each starting with its path. */
export class ConfigError extends PatchbayError {
  readonly problems: string[];
  constructor(problems: string[], file: string | undefined) {
    super(
      ErrorCode.CONFIG_INVALID,
      `invalid configuration${file ? ` in ${file}` : ''}:\n${problems.map((p) => `  - ${p}`).join('\n')}`,
      { data: { problems } },
    );
    this.problems = problems;
  }
}

/**
 * Parses API input (a connection, a source, a destination) with a schema of the configuration; the error
 * lists each problem by path (under `what`, e.g. `auth.token`; `whole` names the value itself) and never
 * echoes a value.
 */
export function parseWith<T extends z.ZodType>(
  schema: T,
  input: unknown,
  what: string,
  whole = 'body',
): z.output<T> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    const full = what ? [what, ...issue.path] : issue.path;
    const path = full.length > 0 ? formatPath(full) : whole;
    if (issue.code === 'unrecognized_keys')
      return `${path}: unknown field ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
    if (issue.code === 'invalid_type' && issue.input === undefined) return `${path}: is required`;
    return `${path}: ${issue.message}`;
  });
  throw new PatchbayError(ErrorCode.INVALID_ARGUMENT, problems.join('; '), { data: { problems } });
}

function formatIssue(issue: z.core.$ZodIssue): string {
  if (issue.code === 'unrecognized_keys') {
    return issue.keys
      .map(
        (key) =>
          `${formatPath([...issue.path, key])}: unknown key (check the spelling; see docs/configuration.md)`,
      )
      .join('\n');
  }
  if (issue.code === 'invalid_type' && issue.input === undefined)
    return `${formatPath(issue.path)}: is required`;
  return `${formatPath(issue.path)}: ${issue.message}`;
}

function findFile(options: LoadConfigOptions, env: Record<string, string | undefined>): string | undefined {
  const cwd = options.cwd ?? process.cwd();
  const explicit = options.file ?? env.PATCHBAY_CONFIG;
  if (explicit) {
    const path = resolve(cwd, explicit);
    if (!existsSync(path)) throw new ConfigError([`config file ${path} does not exist`], undefined);
    return path;
  }
  return CONFIG_FILE_NAMES.map((name) => resolve(cwd, name)).find((path) => existsSync(path));
}

async function readFile(file: string): Promise<unknown> {
  const ext = extname(file).toLowerCase();
  try {
    if (ext === '.js' || ext === '.mjs') {
      const mod = (await import(pathToFileURL(file).href)) as { default?: unknown };
      return mod.default ?? {};
    }
    const text = readFileSync(file, 'utf8');
    if (ext === '.json') return text.trim() === '' ? {} : JSON.parse(text);
    // The YAML parser (some seventy modules) is loaded for a YAML file only.
    const { parse: parseYaml } = await import('yaml');
    return parseYaml(text) ?? {};
  } catch (err) {
    throw new ConfigError([`cannot read ${file}: ${errorMessage(err).split('\n')[0]}`], undefined);
  }
}

/** Environment variables that override the file (the twelve-factor way to run in a container). */
function applyEnv(
  raw: Record<string, unknown>,
  env: Record<string, string | undefined>,
  problems: string[],
): void {
  const section = (name: string): Record<string, unknown> => {
    const value = raw[name];
    if (value !== null && typeof value === 'object' && !Array.isArray(value))
      return value as Record<string, unknown>;
    raw[name] = {};
    return raw[name] as Record<string, unknown>;
  };
  if (env.PATCHBAY_PORT) {
    const port = Number(env.PATCHBAY_PORT);
    if (!Number.isInteger(port) || port < 0 || port > 65535) {
      problems.push(
        `PATCHBAY_PORT: must be a port number (0–65535), got ${JSON.stringify(env.PATCHBAY_PORT)}`,
      );
    } else section('server').port = port;
  }
  if (env.PATCHBAY_HOST) section('server').host = env.PATCHBAY_HOST;
  if (env.PATCHBAY_ADMIN_TOKEN) section('server').adminToken = env.PATCHBAY_ADMIN_TOKEN;
  if (env.PATCHBAY_DATABASE_URL) section('database').url = env.PATCHBAY_DATABASE_URL;
  if (env.PATCHBAY_REDIS_URL) section('redis').url = env.PATCHBAY_REDIS_URL;
  if (env.PATCHBAY_DATA_DIR) raw.dataDir = env.PATCHBAY_DATA_DIR;
  if (env.PATCHBAY_LOG_LEVEL) section('log').level = env.PATCHBAY_LOG_LEVEL;
  if (env.PATCHBAY_LOG_FORMAT) section('log').format = env.PATCHBAY_LOG_FORMAT;
}

/** Leaves out every source, destination and connection using an unset variable, and unsets other fields. */
function leaveOutUnset(raw: Record<string, unknown>, unset: InterpolationProblem[]): string[] {
  const notes: string[] = [];
  const dropped = new Map<string, Set<number>>();
  for (const p of unset) {
    const [list, index] = p.path;
    if (typeof list === 'string' && ENTITY_LISTS.has(list) && typeof index === 'number') {
      const indices = dropped.get(list) ?? new Set();
      if (!indices.has(index)) {
        const id = (raw[list] as { id?: unknown }[] | undefined)?.[index]?.id;
        notes.push(`${list}[${index}]${typeof id === 'string' ? ` "${id}"` : ''} (${p.variable} is not set)`);
      }
      dropped.set(list, indices.add(index));
    } else {
      notes.push(`${formatPath(p.path)} (${p.variable} is not set)`);
      removeAt(raw, p.path);
    }
  }
  compact(raw);
  for (const [list, indices] of dropped) {
    raw[list] = (raw[list] as unknown[]).filter((_, i) => !indices.has(i));
  }
  return notes;
}

/** Removes the value at `path`; an array item is marked, and `compact` then takes the marks out. */
function removeAt(root: Record<string, unknown>, path: (string | number)[]): void {
  let parent: unknown = root;
  for (const key of path.slice(0, -1)) parent = (parent as Record<string | number, unknown>)?.[key];
  const last = path[path.length - 1];
  if (Array.isArray(parent) && typeof last === 'number') parent[last] = REMOVED;
  else if (parent !== null && typeof parent === 'object' && last !== undefined) {
    delete (parent as Record<string | number, unknown>)[last];
  }
}

const REMOVED = Symbol('removed');

function compact(value: unknown): void {
  if (Array.isArray(value)) {
    for (let i = value.length - 1; i >= 0; i--) if (value[i] === REMOVED) value.splice(i, 1);
    for (const item of value) compact(item);
  } else if (value !== null && typeof value === 'object') {
    for (const item of Object.values(value)) compact(item);
  }
}

/** Checks what a schema cannot see one object at a time. */
function crossCheck(config: PatchbayConfig): string[] {
  const problems: string[] = [];
  const unique = (items: { id: string }[], what: string) => {
    const seen = new Map<string, number>();
    items.forEach((item, i) => {
      const first = seen.get(item.id);
      if (first !== undefined)
        problems.push(`${what}[${i}].id: "${item.id}" is already used by ${what}[${first}]`);
      else seen.set(item.id, i);
    });
  };
  unique(config.sources, 'sources');
  unique(config.destinations, 'destinations');
  unique(config.connections, 'connections');
  config.destinations.forEach((d, i) => {
    // The API generates one; a file cannot be written back to, so it must say which secret to sign with.
    // An e-mail (an smtp(s) url) is not signed.
    if ((d.secrets?.length ?? 0) === 0 && d.secret === undefined && !/^smtps?:/i.test(d.url)) {
      problems.push(
        `destinations[${i}].secrets: destination "${d.id}" needs at least one signing secret (whsec_…; write "\${SOME_VARIABLE}" to keep it out of the file)`,
      );
    }
  });
  return problems;
}

/** Validates an in-memory config object (already interpolated) the same way a file is validated. */
export function parseConfig(raw: unknown, file?: string): PatchbayConfig {
  const result = configSchema.safeParse(raw ?? {});
  if (!result.success)
    throw new ConfigError(
      result.error.issues.flatMap((i) => formatIssue(i).split('\n')),
      file,
    );
  const problems = crossCheck(result.data);
  if (problems.length > 0) throw new ConfigError(problems, file);
  return result.data;
}

/**
 * Finds, reads, interpolates and validates the configuration. Throws a `ConfigError` listing every
 * problem at once (never only the first), each with the path of the offending value.
 */
export async function loadConfig(options: LoadConfigOptions = {}): Promise<LoadedConfig> {
  const env = options.env ?? process.env;
  const file = findFile(options, env);
  const fromFile = file ? await readFile(file) : {};
  if (fromFile === null || typeof fromFile !== 'object' || Array.isArray(fromFile)) {
    throw new ConfigError(['(root): the config file must hold an object (key: value pairs)'], file);
  }
  const problems: string[] = [];
  const interpolationProblems: InterpolationProblem[] = [];
  const raw = interpolate(fromFile, env, interpolationProblems) as Record<string, unknown>;
  const leaveOut = options.unsetVariables === 'leave-out';
  const leftOut = leaveOut ? leaveOutUnset(raw, interpolationProblems) : [];
  if (!leaveOut) {
    problems.push(...interpolationProblems.map((p) => `${formatPath(p.path)}: ${p.message}`));
    // The field is reported once, as unset: not again as "too short" or "required".
    for (const p of interpolationProblems) removeAt(raw, p.path);
    compact(raw);
  }
  applyEnv(raw, env, problems);
  const unsetPaths = leaveOut ? [] : interpolationProblems.map((p) => formatPath(p.path));
  let config: PatchbayConfig | undefined;
  try {
    config = parseConfig(raw, file);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    // A consequence of an unset field (a required one missing, a list now empty) is not news.
    const consequence = (problem: string) => {
      const at = problem.slice(0, problem.indexOf(':'));
      return unsetPaths.some((u) => u.startsWith(at) || at.startsWith(u));
    };
    problems.push(...err.problems.filter((p) => !consequence(p)));
  }
  if (problems.length > 0 || !config) throw new ConfigError(problems, file);
  const code = file !== undefined && /\.m?js$/i.test(file);
  return {
    config,
    file,
    ...(leftOut.length > 0 && { leftOut }),
    ...(!code && { literalSecrets: literalSecretPaths(fromFile) }),
  };
}
