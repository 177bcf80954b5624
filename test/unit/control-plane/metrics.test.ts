// The control-plane agent's /metrics: gauges read from the agent at each scrape, and its
// monotonic counts as Counters that follow them (src/control-plane/metrics.ts).
import { describe, expect, it } from 'vitest';
import { createControlPlaneMetrics, type ControlPlaneState } from '../../../src/control-plane/metrics.js';

function state(patch: Partial<ControlPlaneState> = {}, counts: Partial<ControlPlaneState['counts']> = {}): ControlPlaneState {
  return {
    leading: false,
    apiServerReady: false,
    cordoned: false,
    ...patch,
    counts: { takeovers: 0, letGo: 0, released: 0, releaseFailed: 0, leaseRequestFailures: 0, ...counts },
  };
}

describe('the control-plane metrics', () => {
  it('show the state as 0/1 gauges and every count from the start', async () => {
    let now = state();
    const registry = createControlPlaneMetrics(() => now);
    let text = await registry.metrics();
    for (const name of ['leader', 'api_server_ready', 'node_cordoned']) expect(text).toContain(`vipcast_control_plane_${name} 0\n`);
    for (const name of ['takeovers', 'let_go', 'releases', 'release_failures', 'lease_request_failures']) expect(text).toContain(`vipcast_control_plane_${name}_total 0\n`);
    expect(text).toContain('vipcast_control_plane_process_resident_memory_bytes');
    now = state({ leading: true, apiServerReady: true, cordoned: true }, { takeovers: 2, letGo: 1, released: 1, leaseRequestFailures: 5 });
    text = await registry.metrics();
    expect(text).toContain('vipcast_control_plane_leader 1\n');
    expect(text).toContain('vipcast_control_plane_api_server_ready 1\n');
    expect(text).toContain('vipcast_control_plane_node_cordoned 1\n');
    expect(text).toContain('vipcast_control_plane_takeovers_total 2\n');
    expect(text).toContain('vipcast_control_plane_let_go_total 1\n');
    expect(text).toContain('vipcast_control_plane_releases_total 1\n');
    expect(text).toContain('vipcast_control_plane_lease_request_failures_total 5\n');
  });

  it('never lowers a Counter', async () => {
    let now = state({}, { takeovers: 3 });
    const registry = createControlPlaneMetrics(() => now);
    await registry.metrics();
    now = state({}, { takeovers: 1 });
    expect(await registry.metrics()).toContain('vipcast_control_plane_takeovers_total 3\n');
  });
});
