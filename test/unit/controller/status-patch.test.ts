// One status write carries addresses and the condition; a conditions list is written only
// over the resourceVersion it was read at, and redone over a fresh read when another
// controller changed the Service meanwhile, so the condition that controller just added stays.
import { describe, expect, it } from 'vitest';
import { KubeApiError, type KubeRest } from '../../../src/k8s/rest.js';
import { patchServiceStatus, type ServiceCondition } from '../../../src/k8s/service-status-patch.js';

const ours: ServiceCondition = { type: 'vipcast.io/AddressAssigned', status: 'True', reason: 'Assigned', message: '192.0.2.1 from pool "main"', lastTransitionTime: '2026-03-02T09:00:00Z' };
const theirs: ServiceCondition = { type: 'example.com/FirewallOpen', status: 'True', reason: 'Opened', message: 'port 80 open', lastTransitionTime: '2026-01-01T00:00:00Z' };

/** A fake API holding one Service whose resourceVersion the test controls. */
function fakeApi(state: { resourceVersion: string; conditions: ServiceCondition[] }): { rest: KubeRest; patches: unknown[] } {
  const patches: unknown[] = [];
  const fail = (): never => {
    throw new Error('unexpected call');
  };
  const rest: KubeRest = {
    get: <T>() => Promise.resolve({ metadata: { resourceVersion: state.resourceVersion }, status: { conditions: state.conditions } } as T),
    create: fail,
    replace: fail,
    mergePatch: <T>(path: string, body: unknown) => {
      patches.push({ path, body });
      const wanted = (body as { metadata?: { resourceVersion?: string } }).metadata?.resourceVersion;
      if (wanted !== undefined && wanted !== state.resourceVersion) return Promise.reject(new KubeApiError('PATCH', path, 409, { reason: 'Conflict' }));
      return Promise.resolve({} as T);
    },
  };
  return { rest, patches };
}

const addOurs = (list: readonly ServiceCondition[] | undefined): ServiceCondition[] => [...(list ?? []).filter((c) => c.type !== ours.type), ours];

describe('patchServiceStatus', () => {
  it('writes addresses and the condition in one patch of the status subresource, guarded by the resourceVersion read', async () => {
    const { rest, patches } = fakeApi({ resourceVersion: '7', conditions: [] });
    expect(await patchServiceStatus(rest, 'apps', 'web', { resourceVersion: '7', conditions: [] }, { ips: ['192.0.2.1'], conditions: addOurs })).toBe(true);
    expect(patches).toEqual([
      { path: '/api/v1/namespaces/apps/services/web/status', body: { metadata: { resourceVersion: '7' }, status: { loadBalancer: { ingress: [{ ip: '192.0.2.1', ipMode: 'VIP' }] }, conditions: [ours] } } },
    ]);
  });

  it('keeps a condition another controller added after the cache was read', async () => {
    const { rest, patches } = fakeApi({ resourceVersion: '8', conditions: [theirs] });
    expect(await patchServiceStatus(rest, 'apps', 'web', { resourceVersion: '7', conditions: [] }, { conditions: addOurs })).toBe(true);
    expect(patches).toHaveLength(2);
    expect(patches[1]).toEqual({ path: '/api/v1/namespaces/apps/services/web/status', body: { metadata: { resourceVersion: '8' }, status: { conditions: [theirs, ours] } } });
  });

  it('writes nothing when the fresh read shows the condition is already right', async () => {
    const { rest, patches } = fakeApi({ resourceVersion: '9', conditions: [ours] });
    const unlessPresent = (list: readonly ServiceCondition[] | undefined) => (list?.some((c) => c.type === ours.type) ? undefined : addOurs(list));
    expect(await patchServiceStatus(rest, 'apps', 'web', { resourceVersion: '7', conditions: [] }, { conditions: unlessPresent })).toBe(false);
    expect(patches).toHaveLength(1);
  });

  it('sends addresses alone without a resourceVersion, and removes an emptied conditions list', async () => {
    const { rest, patches } = fakeApi({ resourceVersion: '3', conditions: [ours] });
    await patchServiceStatus(rest, 'apps', 'web', { resourceVersion: '1', conditions: [ours] }, { ips: [] });
    await patchServiceStatus(rest, 'apps', 'web', { resourceVersion: '3', conditions: [ours] }, { conditions: () => [] });
    expect(patches).toEqual([
      { path: '/api/v1/namespaces/apps/services/web/status', body: { status: { loadBalancer: { ingress: null } } } },
      { path: '/api/v1/namespaces/apps/services/web/status', body: { metadata: { resourceVersion: '3' }, status: { conditions: null } } },
    ]);
  });

  it('gives up with the conflict after a few attempts when the Service keeps changing', async () => {
    const state = { resourceVersion: '1', conditions: [] as ServiceCondition[] };
    const { rest } = fakeApi(state);
    const moving: KubeRest = { ...rest, get: <T>() => rest.get<T>('').finally(() => (state.resourceVersion = String(Number(state.resourceVersion) + 1))) };
    await expect(patchServiceStatus(moving, 'apps', 'web', { resourceVersion: '0', conditions: [] }, { conditions: addOurs })).rejects.toMatchObject({ status: 409 });
  });
});
