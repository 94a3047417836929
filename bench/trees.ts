/**
 * Another tree of this repository beside this one, for measurements that compare the code before a change
 * with the code after it in one run: a temporary git worktree at a revision, removed afterwards; and the
 * CPU time a process has used, read from /proc.
 *
 * @module
 */
export const ROOT = new URL("../", import.meta.url).pathname;
/** /proc/PID/stat counts CPU time in clock ticks of 1/100 s on Linux. */
export const CLOCK_TICKS_PER_SECOND = 100;

/**
 * Runs `work` with the root (ending in `/`) of a checkout of `reference`; returns null, and says why, when
 * git cannot check it out (a shallow clone, no git).
 */
export async function withTreeAt<T>(
  reference: string,
  what: string,
  work: (root: string) => Promise<T>,
): Promise<T | null> {
  const checkout = await Deno.makeTempDir({ prefix: "bank-tree-" });
  const added = await git(["worktree", "add", "--detach", checkout, reference]);
  if (!added.ok) {
    console.log(`${what} not compared: git cannot check out ${reference}: ${added.output}`);
    await Deno.remove(checkout, { recursive: true });
    return null;
  }
  try {
    return await work(`${checkout}/`);
  } finally {
    await git(["worktree", "remove", "--force", checkout]);
    await Deno.remove(checkout, { recursive: true }).catch(() => {});
  }
}

/** User plus system CPU time of a process, in clock ticks (fields 14 and 15 of /proc/PID/stat). */
export async function cpuTicksOf(pid: number): Promise<number> {
  const stat = await Deno.readTextFile(`/proc/${pid}/stat`);
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return Number(fields[11]) + Number(fields[12]);
}

/** The CPU `pid` spends while `work` runs, in microseconds per unit of what `work` reports doing. */
export async function cpuPerUnit<T>(
  pid: number,
  work: () => Promise<T>,
  units: (result: T) => number,
): Promise<{ result: T; cpuUs: number }> {
  const before = await cpuTicksOf(pid);
  const result = await work();
  const ticks = await cpuTicksOf(pid) - before;
  return { result, cpuUs: ticks / CLOCK_TICKS_PER_SECOND * 1e6 / units(result) };
}

async function git(args: string[]): Promise<{ ok: boolean; output: string }> {
  try {
    const output = await new Deno.Command("git", {
      args: ["-C", ROOT, ...args],
      stdout: "piped",
      stderr: "piped",
    })
      .output();
    const text = new TextDecoder().decode(output.success ? output.stdout : output.stderr).trim();
    return { ok: output.success, output: text };
  } catch (error) {
    return { ok: false, output: error instanceof Error ? error.message : String(error) };
  }
}
