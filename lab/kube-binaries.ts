// Where the k8s test tier finds its kube-apiserver and etcd: the versions pinned in
// scripts/build-kube and the cache layout that script writes (or env overrides).
import { accessSync, constants, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { repositoryRoot } from './paths.js';

/** Absolute path of scripts/build-kube, the one place the versions are pinned. */
export function buildKubeScript(root: string = repositoryRoot()): string {
  return join(root, 'scripts', 'build-kube');
}

/** The Kubernetes and etcd versions pinned in scripts/build-kube, e.g. `v1.37.2` and `v3.7.0`. */
export interface PinnedVersions {
  /** Kubernetes release, with its leading `v`. */
  readonly kube: string;
  /** etcd release, with its leading `v`. */
  readonly etcd: string;
}

/** The executables one test run uses. */
export interface KubeBinaries {
  /** Path of the kube-apiserver executable. */
  readonly apiserver: string;
  /** Path of the etcd executable. */
  readonly etcd: string;
}

/** Reads `KUBE_VERSION=` and `ETCD_VERSION=` from scripts/build-kube. */
export function pinnedVersions(script: string = buildKubeScript()): PinnedVersions {
  const text = readFileSync(script, 'utf8');
  const pick = (name: string): string => {
    const match = new RegExp(`^${name}=(v\\d+\\.\\d+\\.\\d+)\\s*$`, 'm').exec(text);
    if (match?.[1] === undefined) throw new Error(`${script} has no ${name}=vX.Y.Z line`);
    return match[1];
  };
  return { kube: pick('KUBE_VERSION'), etcd: pick('ETCD_VERSION') };
}

/** The cache root scripts/build-kube uses: `$VIPCAST_CACHE` or `~/.cache/vipcast`. */
export function cacheRoot(env: NodeJS.ProcessEnv = process.env): string {
  const configured = env['VIPCAST_CACHE'];
  return configured !== undefined && configured !== '' ? configured : join(homedir(), '.cache', 'vipcast');
}

/**
 * Finds the binaries: `VIPCAST_KUBE_APISERVER` / `VIPCAST_ETCD` when set, otherwise the
 * versioned paths scripts/build-kube writes. Throws an error naming that script when one is
 * missing, so a machine without them fails the test instead of skipping it.
 */
export function findKubeBinaries(env: NodeJS.ProcessEnv = process.env): KubeBinaries {
  const versions = pinnedVersions();
  const root = cacheRoot(env);
  const choose = (variable: string, fallback: string): string => {
    const configured = env[variable];
    return configured !== undefined && configured !== '' ? configured : fallback;
  };
  const apiserver = choose('VIPCAST_KUBE_APISERVER', join(root, 'kube', versions.kube, 'kube-apiserver'));
  const etcd = choose('VIPCAST_ETCD', join(root, 'etcd', versions.etcd, 'etcd'));
  const missing = [apiserver, etcd].filter((path) => !isExecutable(path));
  if (missing.length > 0) {
    throw new Error(
      `missing ${missing.join(' and ')}: run scripts/build-kube to build kube-apiserver ` +
        `${versions.kube} and etcd ${versions.etcd} (the first build takes tens of minutes), ` +
        'or point VIPCAST_KUBE_APISERVER / VIPCAST_ETCD at existing binaries',
    );
  }
  return { apiserver, etcd };
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * The kubectl scripts/build-kube builds for lab users (`VIPCAST_KUBECTL` when set), or
 * undefined when it has not been built.
 */
export function builtKubectl(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const configured = env['VIPCAST_KUBECTL'];
  const path = configured !== undefined && configured !== '' ? configured : join(cacheRoot(env), 'kube', pinnedVersions().kube, 'kubectl');
  return isExecutable(path) ? path : undefined;
}
