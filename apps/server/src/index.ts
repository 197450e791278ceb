export { buildServer, type ServerOptions } from './server.ts';
export {
  credentialsRevokedClose,
  deviceCookie,
  sessionCookie,
  type AuthOptions,
  type LoginLimits,
} from './auth/index.ts';
export { BoardStream, type BoardStreamOptions } from './board-stream.ts';
export { EventHub } from './event-hub.ts';
export { createLogger, redactedPaths } from './logger.ts';
export { startMllpListener, type MllpListener, type MllpListenerOptions } from './mllp-listener.ts';
