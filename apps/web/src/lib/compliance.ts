import { createTRPCClient, httpBatchLink, TRPCClientError } from '@trpc/client';
import type { AppRouter } from '@medaxis/api';

/*
 * The compliance views' server: tRPC over HTTP, on the page's origin, under the purpose of use
 * `audit` (the only one a compliance officer holds; the server records it in the audit row
 * of every look at the trail).
 */

export type ComplianceClient = ReturnType<typeof createComplianceClient>;

export function createComplianceClient() {
  return createTRPCClient<AppRouter>({
    links: [httpBatchLink({ url: '/trpc', headers: { 'x-purpose-of-use': 'audit' } })],
  });
}

/** The views under /audit, in the order of the navigation. */
export const complianceViews = [
  { path: '/audit/patient', label: 'Patient access' },
  { path: '/audit/user', label: 'User activity' },
  { path: '/audit/break-glass', label: 'Break-glass review' },
  { path: '/audit/denials', label: 'Denials' },
  { path: '/audit/departments', label: 'Outside departments' },
  { path: '/audit/chain', label: 'Chain status' },
] as const;

/** Whether a session may use the compliance views (the server decides; this only guides). */
export function isComplianceOfficer(roles: readonly string[]): boolean {
  return roles.includes('compliance_officer');
}

/** Who acted, as a table shows it: the username where known, else kind and id. */
export function actorLabel(fact: {
  actorKind: string;
  actorId: string;
  actorName: string | null;
}): string {
  if (fact.actorName) return fact.actorName;
  return fact.actorKind === 'system' ? 'system' : `${fact.actorKind} ${fact.actorId}`;
}

/** What the server said, for people: its message when it is one for them, else a generic one. */
export function problemOf(error: unknown): string {
  if (error instanceof TRPCClientError) {
    const code = (error.data as { code?: string } | undefined)?.code;
    if (code === 'FORBIDDEN') return 'Not allowed: these views are for compliance officers.';
    if (code === 'UNAUTHORIZED') return 'Your session has ended. Sign in again.';
    if (code === 'BAD_REQUEST') return 'Check the filters: one of them is not valid.';
  }
  return 'The server could not answer. Try again in a moment.';
}

/** Saves text as a file through the browser's download. */
export function download(filename: string, contentType: string, body: string): void {
  const url = URL.createObjectURL(new Blob([body], { type: contentType }));
  const link = document.createElement('a');
  link.href = url;
  link.download = filename;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
