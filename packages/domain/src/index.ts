export * from './apply.ts';
export * from './bed-state-machine.ts';
export * from './bed-status.ts';
export * from './census.ts';
export * from './commands.ts';
export * from './errors.ts';
export * from './state.ts';
