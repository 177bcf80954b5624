// The peer channel's key (ADR 0017): Secret `vipcast-peer-key` in the vipcast namespace, key
// `key`. The first speaker that finds none creates it with 32 random bytes; the others read
// the one that won. A Secret whose key is too short is refused by name, never used.
import { randomBytes } from 'node:crypto';
import { MIN_KEY_BYTES } from '../../speakers/peer/seal.js';
import type { KubeRest } from '../k8s/rest.js';
import { statusOf } from '../k8s/rest.js';

/** The default name of the Secret holding the peer key. */
export const peerKeySecret = 'vipcast-peer-key';

interface SecretObject {
  data?: Record<string, string>;
}

/** Reads the peer key from its Secret, creating the Secret when it does not exist. */
export async function loadPeerKey(rest: KubeRest, namespace: string, name = peerKeySecret): Promise<Buffer> {
  const path = `/api/v1/namespaces/${encodeURIComponent(namespace)}/secrets`;
  const read = async (): Promise<Buffer | undefined> => {
    try {
      const secret = await rest.get<SecretObject>(`${path}/${encodeURIComponent(name)}`);
      const text = secret.data?.['key'];
      if (text === undefined) throw new Error(`Secret ${namespace}/${name} has no data.key`);
      const key = Buffer.from(text, 'base64');
      if (key.length < MIN_KEY_BYTES) throw new Error(`Secret ${namespace}/${name}: data.key has ${key.length} bytes, at least ${MIN_KEY_BYTES} are needed`);
      return key;
    } catch (error) {
      if (statusOf(error) === 404) return undefined;
      throw error;
    }
  };
  const existing = await read();
  if (existing) return existing;
  const secret = {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name, namespace, labels: { 'app.kubernetes.io/name': 'vipcast' } },
    type: 'Opaque',
    data: { key: randomBytes(32).toString('base64') },
  };
  try {
    await rest.create(path, secret);
  } catch (error) {
    if (statusOf(error) !== 409) throw error;
  }
  const created = await read();
  if (!created) throw new Error(`Secret ${namespace}/${name} disappeared right after it was created`);
  return created;
}
