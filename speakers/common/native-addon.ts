// Loading one of vipcast's native addons (native/, one binding.gyp target each)
// from the package root, found by walking up from this file: the same code serves the source
// tree, dist/ and the image's /app.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const loaded = new Map<string, unknown>();

/**
 * The addon `name` (e.g. `netlink` for build/Release/netlink.node), loaded once. Throws
 * `missing` followed by the addon's path and how to build it when it is not built.
 */
export function loadNativeAddon<T>(name: string, missing: string): T {
  const cached = loaded.get(name);
  if (cached !== undefined) return cached as T;
  const addonPath = join('native', 'build', 'Release', `${name}.node`);
  for (let dir = dirname(fileURLToPath(import.meta.url)); ; dir = dirname(dir)) {
    const candidate = join(dir, addonPath);
    if (existsSync(candidate)) {
      const addon = createRequire(import.meta.url)(candidate) as T;
      loaded.set(name, addon);
      return addon;
    }
    if (dirname(dir) === dir) break;
  }
  throw new Error(`${missing} (${addonPath}); run "npm run setup"`);
}
