export * from './actors.ts';
export * from './audit-hook.ts';
export * from './devices.ts';
export * from './passwords.ts';
export * from './sessions.ts';
export * from './tokens.ts';
export * from './users.ts';
