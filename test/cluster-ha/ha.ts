// The HA tier's cluster: its name, its control-plane VIP and the nodes that may hold it.
// vitest.config.ts gives the tier VIPCAST_CLUSTER=vcha too, for test/cluster/cluster.ts's helpers.
export const haCluster = 'vcha';
/** Outside the bridge's Docker range (.0/26) and the LoadBalancer pools (.200-.249). */
export const haVip = '172.30.0.250';
export const controlPlanes = [`${haCluster}-control-plane`, `${haCluster}-control-plane2`, `${haCluster}-control-plane3`];
