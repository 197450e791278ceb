export * from './census-snapshot.ts';
export { readEnv, type WorkerEnv } from './env.ts';
export { registerJobs } from './worker.ts';
