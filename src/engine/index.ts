export { databaseUrl, Engine, type EngineOptions } from './engine.js';
