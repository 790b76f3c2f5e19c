export { adminApiNotice, assertAdminTokenForBind, isLoopbackHost } from './admin-auth.js';
export { type AdminRoutes, buildServer, type PublicRoutes, type ServerOptions } from './app.js';
