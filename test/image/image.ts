// Running vipcast's image the way the manifests do, for the image tier.
import { spawn } from 'node:child_process';

/** The image the tier builds and runs (scripts/build-image's default tag). */
export const imageTag = process.env['VIPCAST_IMAGE'] ?? 'vipcast:dev';

/** What one `docker run` printed and how it ended. */
export interface RunResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `docker args` to completion (bounded, to catch a hang) and collects its output. */
export function docker(args: readonly string[], timeoutMs = 120_000): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn('docker', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`docker ${args.join(' ')}: no exit after ${timeoutMs} ms`));
    }, timeoutMs);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** `docker run` flags matching the controller Deployment's securityContext in manifests/vipcast.yaml. */
export const controllerSecurity = ['--user=65532:65532', '--read-only', '--cap-drop=ALL', '--security-opt=no-new-privileges'] as const;

/** `docker run` flags matching the speaker DaemonSet's securityContext: UID 0 with only NET_RAW and NET_ADMIN. */
export const speakerSecurity = ['--user=0:0', '--read-only', '--cap-drop=ALL', '--cap-add=NET_RAW', '--cap-add=NET_ADMIN', '--security-opt=no-new-privileges'] as const;
