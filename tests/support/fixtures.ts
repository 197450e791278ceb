import {
  appendEvent,
  ensureBed,
  ensureDepartment,
  ensureRoom,
  ensureSite,
  withTransaction,
  type BoardBedRow,
  type Db,
} from '@medaxis/db';

export interface SmallHospital {
  departments: Record<string, number>;
  /** Bed ids by bed code. */
  beds: Record<string, number>;
}

/**
 * A small hospital for tests: an ED and two wards, two rooms each, two beds a room, all free
 * since yesterday (so live commands dated now apply).
 */
export async function seedSmallHospital(db: Db): Promise<SmallHospital> {
  const site = await ensureSite(db, { code: 'TEST', name: 'Test Hospital', timeZone: 'UTC' });
  const since = new Date(Date.now() - 86_400_000);
  const layout = [
    { code: 'ED', name: 'Emergency', kind: 'emergency' },
    { code: 'MED', name: 'Medicine', kind: 'ward' },
    { code: 'SUR', name: 'Surgery', kind: 'surgery' },
  ] as const;
  const hospital: SmallHospital = { departments: {}, beds: {} };
  for (const [index, department] of layout.entries()) {
    const departmentId = await ensureDepartment(db, site, { ...department, sortOrder: index });
    hospital.departments[department.code] = departmentId;
    for (const room of ['01', '02']) {
      const roomId = await ensureRoom(db, departmentId, room);
      for (const letter of ['A', 'B']) {
        const code = `${department.code}-${room}-${letter}`;
        hospital.beds[code] = await ensureBed(db, { roomId, code, since });
      }
    }
  }
  return hospital;
}

/**
 * `count` events carrying `beds` (board rows, as a bed command's event does), committed
 * together in one transaction, as the event log appends them; their ids, oldest first. For
 * feeds to deliver without a bed command behind them (bursts, large events, catch-ups).
 */
export async function appendTestEvents(
  db: Db,
  count: number,
  beds: readonly BoardBedRow[],
  options: { type?: string; departmentId?: number } = {},
): Promise<string[]> {
  return withTransaction(db, async (tx) => {
    const ids: string[] = [];
    for (let n = 0; n < count; n++) {
      ids.push(
        await appendEvent(tx, {
          type: options.type ?? 'test-event',
          occurredAt: new Date(),
          source: 'test',
          departmentId: options.departmentId ?? null,
          bedId: null,
          encounterId: null,
          payload: { beds },
        }),
      );
    }
    return ids;
  });
}
