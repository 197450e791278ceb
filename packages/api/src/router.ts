import { boardRouter } from './board.ts';
import { breakGlassRouter } from './break-glass.ts';
import { catalogRouter, censusRouter } from './catalog.ts';
import { complianceRouter } from './compliance.ts';
import { adtRouter, bedsRouter } from './commands.ts';
import { hl7Router } from './hl7.ts';
import { importsRouter } from './imports.ts';
import { devicesRouter } from './devices.ts';
import { fhirRouter } from './fhir.ts';
import { consentRouter } from './consent.ts';
import { patientsRouter } from './patients.ts';
import { qualityRouter } from './quality.ts';
import { router } from './trpc.ts';
import { usersRouter } from './users.ts';

export const appRouter = router({
  adt: adtRouter,
  beds: bedsRouter,
  board: boardRouter,
  breakGlass: breakGlassRouter,
  catalog: catalogRouter,
  census: censusRouter,
  compliance: complianceRouter,
  hl7: hl7Router,
  imports: importsRouter,
  devices: devicesRouter,
  fhir: fhirRouter,
  consent: consentRouter,
  patients: patientsRouter,
  quality: qualityRouter,
  users: usersRouter,
});

export type AppRouter = typeof appRouter;
