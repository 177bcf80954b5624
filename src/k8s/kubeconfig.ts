// Where the controller finds its API server and credentials: the in-cluster ServiceAccount,
// or a kubeconfig file named on the command line.
import { KubeConfig } from '@kubernetes/client-node';

/** How to build a KubeConfig: from a file, or (when none is named) from inside a Pod. */
export interface KubeConfigSource {
  /** Path of a kubeconfig file; when absent the in-cluster ServiceAccount is used. */
  readonly kubeconfig?: string | undefined;
}

/**
 * Loads a KubeConfig: the named file, else the in-cluster ServiceAccount (token, CA and the
 * KUBERNETES_SERVICE_HOST/PORT variables). Throws with a readable message when neither works.
 */
export function loadKubeConfig(source: KubeConfigSource, env: NodeJS.ProcessEnv = process.env): KubeConfig {
  const kc = new KubeConfig();
  if (source.kubeconfig !== undefined && source.kubeconfig !== '') {
    kc.loadFromFile(source.kubeconfig);
  } else if (env['KUBERNETES_SERVICE_HOST']) {
    kc.loadFromCluster();
  } else {
    throw new Error('no --kubeconfig given and not running in a Pod (KUBERNETES_SERVICE_HOST is unset)');
  }
  if (kc.getCurrentCluster() === null) throw new Error('the kubeconfig names no current cluster');
  return kc;
}
