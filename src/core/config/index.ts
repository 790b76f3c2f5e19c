export { formatPath } from './format-path.js';
export {
  CONFIG_FILE_NAMES,
  ConfigError,
  type LoadConfigOptions,
  type LoadedConfig,
  loadConfig,
  parseConfig,
  parseWith,
} from './load.js';
export * from './schema.js';
export * from './syncs.js';
export { formatDuration, parseDuration, parseSize } from './units.js';
