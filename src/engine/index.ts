export { databaseUrl, Engine, type EngineOptions, type QueueRegistration } from './engine.js';
