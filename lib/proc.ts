/**
 * Reading Linux's /proc: the processes this user may inspect and their environments. Used to
 * tell whether a run is still going and to find the processes an earlier run left behind (both
 * look for the `MAESTRO_RUN_ID` every task carries).
 *
 * @module
 */

/** The pids in /proc, without this process's own; undefined when /proc cannot be read. */
export function otherProcessIds(): number[] | undefined {
  let names: string[];
  try {
    names = Array.from(Deno.readDirSync("/proc"), (entry) => entry.name);
  } catch {
    return undefined;
  }
  const ids: number[] = [];
  for (const name of names) {
    if (/^\d+$/.test(name) && Number(name) !== Deno.pid) ids.push(Number(name));
  }
  return ids;
}

/** The `NAME=value` entries of a process's environment; undefined when gone or not ours. */
export function environOf(pid: number): string[] | undefined {
  try {
    return Deno.readTextFileSync(`/proc/${pid}/environ`).split("\0");
  } catch {
    return undefined;
  }
}
