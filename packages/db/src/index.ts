export * from './board.ts';
export * from './catalog.ts';
export * from './census.ts';
export * from './commands.ts';
export * from './embedded.ts';
export * from './events.ts';
export * from './migrate.ts';
export * from './pool.ts';
