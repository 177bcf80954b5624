// `vipcast lab down`: stops every process the state file records (only those still ours: same
// PID, start time and command), deletes the recorded namespaces and files, and nothing else.
import { rmSync, rmdirSync } from 'node:fs';
import { isOurs, readState, stateFile, stopProcesses, writeState, type LabProcessRecord, type LabState } from './lab-state.js';
import { existingNamespaces, removeNamespaces } from './lab-topology.js';

// Stopped in this order: announcers first (a speaker stopped with SIGTERM releases its
// Lease while the API server still answers), the API server and etcd last.
const phases: readonly ((r: LabProcessRecord) => boolean)[] = [
  (r) => /^(speaker|probe|capture)/.test(r.role),
  (r) => !/^(api-bridge|kube-apiserver|etcd)$/.test(r.role),
  (r) => /^(api-bridge|kube-apiserver)$/.test(r.role),
  () => true,
];

/**
 * Removes a lab: processes, namespaces, files. Returns what it did, in numbers, and what it
 * could not remove; anything left stays recorded so a later `down` tries again.
 */
export async function removeLab(state: LabState, out: (line: string) => void): Promise<{ processes: number; namespaces: number; left: string[] }> {
  let pending = [...state.processes];
  let stopped = 0;
  for (const phase of phases) {
    const now = pending.filter(phase);
    pending = pending.filter((r) => !phase(r));
    stopped += now.filter(isOurs).length;
    const killed = await stopProcesses(now);
    if (killed.length > 0) out(`lab: had to SIGKILL ${killed.join(', ')}`);
  }
  const removed = await removeNamespaces(state.namespaces);
  const processes = state.processes.filter(isOurs);
  const namespaces = await existingNamespaces(state.namespaces);
  const left = [...processes.map((r) => `${r.role} (PID ${r.pid})`), ...namespaces.map((ns) => `namespace ${ns}`)];
  if (left.length > 0) {
    writeState(state.dir, { ...state, processes, namespaces, complete: false });
    out(`lab: could not remove ${left.join(', ')}; they stay recorded in ${stateFile(state.dir)} for the next "vipcast lab down"`);
    return { processes: stopped, namespaces: removed.length, left };
  }
  for (const file of state.files) rmSync(file, { recursive: true, force: true });
  rmSync(stateFile(state.dir), { force: true });
  return { processes: stopped, namespaces: removed.length, left };
}

/** Takes a lab down (the caller holds the lock); true unless something could not be removed. A directory without a lab is fine. */
export async function labDown(dir: string, out: (line: string) => void): Promise<boolean> {
  const state = readState(dir);
  if (state === undefined) {
    out(`No lab is running (no state in ${dir}); nothing to do.`);
    return true;
  }
  out(`lab: stopping the lab started ${state.createdAt} ...`);
  const at = performance.now();
  const done = await removeLab(state, out);
  if (done.left.length > 0) return false;
  out(`lab: stopped ${done.processes} processes, removed ${done.namespaces} namespaces and the lab's files in ${((performance.now() - at) / 1000).toFixed(1)} s`);
  return true;
}

/** Removes the state directory if nothing else is in it (the lock is released first). */
export function removeEmptyDir(dir: string): void {
  try {
    rmdirSync(dir);
  } catch {
    // not empty, or already gone: leave it
  }
}
