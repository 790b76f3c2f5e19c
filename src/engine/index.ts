export { databaseUrl } from '../store/database-url.js';
export { Engine, type EngineOptions } from './engine.js';
