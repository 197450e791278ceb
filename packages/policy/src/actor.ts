/** Why data is being accessed; travels with every request and lands in every audit row. */
export const purposes = ['treatment', 'operations', 'scheduling', 'analytics', 'audit'] as const;
export type Purpose = (typeof purposes)[number];

/** Who is asking: a signed-in person, a wall-display device, or MedAxis itself. */
export type Actor =
  | {
      kind: 'user';
      id: string;
      username: string;
      roles: readonly string[];
      /** Department codes the user may see, or '*' for all. */
      departments: readonly string[] | '*';
      sessionId: string;
    }
  | {
      kind: 'device';
      id: string;
      /** The one board the device may show: a department code, or null for the hospital. */
      board: string | null;
      roles: readonly ['wall_display'];
      departments: readonly string[] | '*';
    }
  | { kind: 'system'; id: 'system'; roles: readonly ['system']; departments: '*' };

export const systemActor: Actor = {
  kind: 'system',
  id: 'system',
  roles: ['system'],
  departments: '*',
};
