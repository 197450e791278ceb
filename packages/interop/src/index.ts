export * from './mimic/build-history.ts';
export * from './mimic/care-units.ts';
export * from './mimic/import-mimic.ts';
export * from './mimic/mimic-time.ts';
export * from './mimic/plan-beds.ts';
export * from './mimic/read-mimic-files.ts';
export * from './mimic/replay-mimic.ts';
export * from './hl7/index.ts';
