import { censusAt, listDepartments, listRooms, loadBoardBedsByDepartment } from '@medaxis/db';
import { z } from 'zod';

import { departmentCode, instant } from './inputs.ts';
import { procedure, router } from './trpc.ts';

export const catalogRouter = router({
  departments: procedure
    .meta({ permission: 'catalog.read' })
    .query(({ ctx }) => listDepartments(ctx.db)),
  rooms: procedure
    .meta({ permission: 'catalog.read' })
    .input(z.object({ department: departmentCode.optional() }).strict().optional())
    .query(({ ctx, input }) => listRooms(ctx.db, input?.department)),
  beds: procedure
    .meta({ permission: 'catalog.read' })
    .input(z.object({ department: departmentCode.optional() }).strict().optional())
    .query(({ ctx, input }) => loadBoardBedsByDepartment(ctx.db, input?.department)),
});

export const censusRouter = router({
  /** Occupied beds per department now, from bed-stay intervals. */
  current: procedure
    .meta({ permission: 'census.read' })
    .input(z.object({ department: departmentCode.optional() }).strict().optional())
    .query(({ ctx, input }) =>
      censusAt(ctx.db, { at: ctx.now(), departmentCode: input?.department }),
    ),
  /** Occupied beds per department at any past (or present) instant. */
  at: procedure
    .meta({ permission: 'census.read' })
    .input(z.object({ at: instant, department: departmentCode.optional() }).strict())
    .query(({ ctx, input }) =>
      censusAt(ctx.db, { at: input.at, departmentCode: input.department }),
    ),
});
