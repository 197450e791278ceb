import type { DeviceView } from '@medaxis/api';
import { TRPCClientError } from '@trpc/client';
import { describe, expect, it, vi } from 'vitest';

import { checkRequest, DevicesState, problemText } from './devices.svelte.ts';
import type { OpsClient } from './ops-api.ts';

function trpcError(code: string, reason: string | null = null) {
  return new TRPCClientError<never>('refused', {
    result: {
      error: {
        code: -32600,
        message: 'refused',
        data: { code, medaxis: reason === null ? null : { code: 'validation', reason } },
      },
    },
  } as never);
}

function device(overrides: Partial<DeviceView> = {}): DeviceView {
  return {
    id: 'a'.repeat(64),
    label: 'ICU screen',
    board: 'ICU',
    issuedBy: 'admin',
    issuedAt: '2026-12-04T08:00:00.000Z',
    expiresAt: '2027-12-04T08:00:00.000Z',
    revokedAt: null,
    lastSeenAt: null,
    status: 'active',
    ...overrides,
  };
}

function fakeClient(overrides: { issue?: () => Promise<unknown>; list?: DeviceView[] } = {}) {
  const issue = vi.fn(
    overrides.issue ??
      (() =>
        Promise.resolve({
          device: device({ id: 'b'.repeat(64), label: 'MED screen', board: 'MED' }),
          token: 't',
          setupUrl: 'http://medaxis.test/device/t',
          qrSvg: '<svg/>',
        })),
  );
  const revoke = vi.fn(({ id }: { id: string }) =>
    Promise.resolve(device({ id, status: 'revoked', revokedAt: '2026-12-04T09:00:00.000Z' })),
  );
  const client = {
    devices: {
      list: { query: () => Promise.resolve(overrides.list ?? [device()]) },
      issue: { mutate: issue },
      revoke: { mutate: revoke },
    },
    catalog: {
      departments: {
        query: () => Promise.resolve([{ id: 1, code: 'MED', name: 'Medicine', kind: 'ward' }]),
      },
    },
  } as unknown as OpsClient;
  return { client, issue, revoke };
}

const request = { label: ' MED screen ', board: 'MED', expiresInDays: 30 };

describe('issuing a wall display', () => {
  it('keeps the setup link and QR code of the display just issued, and lists it first', async () => {
    const { client, issue } = fakeClient();
    const view = new DevicesState(client);
    await view.load();

    expect(await view.issue(request, 'http://medaxis.test')).toBe(true);

    expect(issue).toHaveBeenCalledWith({
      label: 'MED screen',
      board: 'MED',
      expiresInDays: 30,
      origin: 'http://medaxis.test',
    });
    expect(view.issued?.setupUrl).toBe('http://medaxis.test/device/t');
    expect(view.issued?.qrSvg).toBe('<svg/>');
    expect(view.devices.map((d) => d.label)).toEqual(['MED screen', 'ICU screen']);
  });

  it('forgets the setup link for good once dismissed', async () => {
    const { client } = fakeClient();
    const view = new DevicesState(client);
    await view.issue(request, 'http://medaxis.test');

    view.dismiss();

    expect(view.issued).toBeNull();
  });

  it('refuses a blank label or an unoffered lifetime without asking the server', async () => {
    const { client, issue } = fakeClient();
    const view = new DevicesState(client);

    expect(await view.issue({ ...request, label: '   ' }, 'http://medaxis.test')).toBe(false);
    expect(view.problem).toMatch(/label/);
    expect(checkRequest({ ...request, expiresInDays: 3 })).toMatch(/how long/);
    expect(checkRequest({ ...request, label: 'x'.repeat(101) })).toMatch(/at most 100/);
    expect(issue).not.toHaveBeenCalled();
  });

  it('says which input the API refused, from its typed reason', async () => {
    const { client } = fakeClient({
      issue: () => Promise.reject(trpcError('BAD_REQUEST', 'unknown_department')),
    });
    const view = new DevicesState(client);

    expect(await view.issue(request, 'http://medaxis.test')).toBe(false);

    expect(view.problem).toMatch(/department is not on this site/);
    expect(view.issued).toBeNull();
    expect(view.busy).toBe(false);
  });
});

describe('refusals on the wall-display page', () => {
  it('words each refusal for the admin', () => {
    expect(problemText(trpcError('FORBIDDEN'), 'issue')).toBe('Your role may not issue displays.');
    expect(problemText(trpcError('UNAUTHORIZED'), 'revoke')).toMatch(/Sign in again/);
    expect(problemText(trpcError('NOT_FOUND'), 'revoke')).toMatch(/no longer known/);
    expect(problemText(trpcError('BAD_REQUEST', 'invalid_expiry'), 'issue')).toMatch(/2 years/);
    expect(problemText(trpcError('BAD_REQUEST'), 'issue')).toMatch(/Check the label/);
    expect(problemText(new TypeError('Failed to fetch'), 'issue')).toMatch(/could not be reached/);
  });

  it('shows the page refused when the role may not list displays', async () => {
    const client = {
      devices: { list: { query: () => Promise.reject(trpcError('FORBIDDEN')) } },
      catalog: { departments: { query: () => Promise.resolve([]) } },
    } as unknown as OpsClient;
    const view = new DevicesState(client);

    await view.load();

    expect(view.refused).toBe('forbidden');
    expect(view.loaded).toBe(true);
  });
});

describe('revoking a wall display', () => {
  it('revokes only after the admin confirms, and shows it revoked at once', async () => {
    const { client, revoke } = fakeClient();
    const view = new DevicesState(client);
    await view.load();
    const id = 'a'.repeat(64);

    await view.revoke(id);
    expect(revoke).not.toHaveBeenCalled();

    view.askRevoke(id);
    await view.revoke(id);

    expect(revoke).toHaveBeenCalledWith({ id });
    expect(view.devices[0]?.status).toBe('revoked');
    expect(view.confirming).toBeNull();
    expect(view.notice?.kind).toBe('ok');
  });

  it('does nothing when the admin cancels', async () => {
    const { client, revoke } = fakeClient();
    const view = new DevicesState(client);
    const id = 'a'.repeat(64);

    view.askRevoke(id);
    view.cancelRevoke();
    await view.revoke(id);

    expect(revoke).not.toHaveBeenCalled();
  });
});
