/**
 * Child processes of an experiment: each runs one job file through the command the caller gives
 * (the CLI's `cli/job-entry.ts`), at most `n` at a time. An abort signal kills the running children
 * (finished jobs keep their results; a re-run continues). No signal handlers and no exit codes here:
 * the CLI turns SIGINT / SIGTERM into an abort and decides how a process ends.
 */
import { spawn } from 'node:child_process';
import { describeError, SerError } from '../util/errors.js';

/**
 * Runs `[...cmd, ...args]` with stderr captured (its last 10–20 kB); resolves with the exit code. With
 * `onLine`, each line the child writes on stdout is passed to it (a job's progress); otherwise stdout is dropped.
 */
export function runChild(cmd: readonly string[], args: readonly string[], signal?: AbortSignal, onLine?: (line: string) => void): Promise<{ code: number | null; stderr: string }> {
  return new Promise((res) => {
    if (signal?.aborted) {
      res({ code: null, stderr: 'aborted' });
      return;
    }
    const child = spawn(cmd[0] as string, [...cmd.slice(1), ...args], { stdio: ['ignore', onLine ? 'pipe' : 'ignore', 'pipe'], signal, killSignal: 'SIGTERM' });
    if (onLine) {
      let pending = '';
      child.stdout!.on('data', (d) => {
        const lines = (pending + String(d)).split('\n');
        pending = lines.pop()!;
        for (const l of lines) if (l) onLine(l);
      });
    }
    let stderr = '';
    child.stderr!.on('data', (d) => {
      stderr += String(d);
      if (stderr.length > 20000) stderr = stderr.slice(-10000);
    });
    child.on('exit', (code) => res({ code, stderr }));
    child.on('error', (e) => res({ code: -1, stderr: describeError(e) }));
  });
}

/** Runs `tasks` with at most `n` at a time (results in task order); stops starting tasks once `signal` aborts. */
export async function runLimited<T>(tasks: Array<() => Promise<T>>, n: number, signal?: AbortSignal): Promise<T[]> {
  const out: T[] = new Array(tasks.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < tasks.length && !signal?.aborted) {
      const i = next++;
      out[i] = await (tasks[i] as () => Promise<T>)();
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(n, tasks.length)) }, worker));
  if (signal?.aborted) throw new SerError('eval/aborted', 'experiments interrupted: finished runs are kept; run again with the same --out to continue');
  return out;
}
