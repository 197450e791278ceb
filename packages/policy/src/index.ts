export * from './access.ts';
export * from './actor.ts';
export * from './break-glass.ts';
export * from './config.ts';
export * from './consent-policies.ts';
export * from './consent.ts';
export * from './permissions.ts';
export * from './roles.ts';
