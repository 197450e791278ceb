export * from './actor.ts';
export * from './permissions.ts';
export * from './roles.ts';
