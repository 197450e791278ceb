import { boardRouter } from './board.ts';
import { catalogRouter, censusRouter } from './catalog.ts';
import { adtRouter, bedsRouter } from './commands.ts';
import { hl7Router } from './hl7.ts';
import { router } from './trpc.ts';

export const appRouter = router({
  adt: adtRouter,
  beds: bedsRouter,
  board: boardRouter,
  catalog: catalogRouter,
  census: censusRouter,
  hl7: hl7Router,
});

export type AppRouter = typeof appRouter;
