// Shared builders for allocator tests.
import { parseConfig } from '../../../src/config/parse.js';
import type { Config } from '../../../src/config/types.js';
import { serviceRequest } from '../../../src/allocator/request.js';
import type { ServiceLike } from '../../../src/allocator/request.js';
import type { ServiceRequest } from '../../../src/allocator/types.js';

/** Parses a config that must be valid. */
export function config(text: string): Config {
  const result = parseConfig(text);
  if (!result.ok) throw new Error(result.errors.map((e) => `${e.path}: ${e.message}`).join('\n'));
  return result.config;
}

/** Options for a test Service. */
export interface ServiceOptions {
  namespace?: string;
  labels?: Record<string, string>;
  namespaceLabels?: Record<string, string>;
  annotations?: Record<string, string>;
  families?: ('IPv4' | 'IPv6')[];
  policy?: 'SingleStack' | 'PreferDualStack' | 'RequireDualStack';
  loadBalancerIP?: string;
  ports?: { port: number; protocol?: string }[];
  trafficPolicy?: 'Cluster' | 'Local';
  selector?: Record<string, string>;
}

/** A Service request as the Kubernetes layer would build it. */
export function service(name: string, options: ServiceOptions = {}): ServiceRequest {
  const object: ServiceLike = {
    metadata: { name, namespace: options.namespace ?? 'default', labels: options.labels ?? {}, annotations: options.annotations ?? {} },
    spec: {
      ipFamilies: options.families ?? ['IPv4'],
      ipFamilyPolicy: options.policy ?? 'SingleStack',
      ...(options.loadBalancerIP === undefined ? {} : { loadBalancerIP: options.loadBalancerIP }),
      externalTrafficPolicy: options.trafficPolicy ?? 'Cluster',
      selector: options.selector ?? { app: name },
      ports: options.ports ?? [{ port: 80, protocol: 'TCP' }],
    },
  };
  return serviceRequest(object, options.namespaceLabels ?? {});
}
