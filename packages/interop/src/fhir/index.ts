export * from './codes.ts';
export * from './export-fhir.ts';
export * from './import-fhir.ts';
export * from './present.ts';
export * from './read-fhir-files.ts';
