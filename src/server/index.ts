export { adminApiNotice, assertAdminTokenForBind, isLoopbackHost } from '../core/api/admin-exposure.js';
export { type AdminRoutes, buildServer, type PublicRoutes, type ServerOptions } from './app.js';
export { listenOptions } from './limits/index.js';
