// YAML paths as vipcast's errors write them: `address-pools[2].addresses[0]`.

/** Appends a mapping key to a YAML path: `a.b`, or `a["kubernetes.io/os"]` when needed. */
export function joinKey(path: string, key: string): string {
  if (/^[A-Za-z_][A-Za-z0-9_-]*$/.test(key)) return path === '' ? key : `${path}.${key}`;
  return `${path}[${JSON.stringify(key)}]`;
}
