// Prerequisites of the image tier: a Docker daemon and vipcast's image built from the
// project's Dockerfile as it is now. scripts/build-image does both (it starts dockerd when none
// answers, makes local stand-ins for the base images when no registry is reachable, and is a
// layer-cache hit when nothing changed); a failure fails the tier, never skips it.
import { spawnSync } from 'node:child_process';
import { imageTag } from './image.js';

export default function buildImage(): void {
  const built = spawnSync('bash', ['scripts/build-image', imageTag], { stdio: ['ignore', 'inherit', 'inherit'], timeout: 30 * 60_000 });
  if (built.status !== 0) throw new Error(`image tier cannot run: scripts/build-image ${imageTag} failed (exit ${built.status ?? built.signal}); see .cache/docker/build-image.log`);
}
