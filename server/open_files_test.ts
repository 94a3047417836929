import { assert, assertEquals } from "@std/assert";
import { countOpenFiles, raiseFileLimit, readFileLimit } from "./open_files.ts";

const LINUX = Deno.build.os === "linux";

Deno.test({
  name: "countOpenFiles() matches /proc/self/fd and follows files opened and closed",
  ignore: !LINUX,
  fn: () => {
    const inProc = () => [...Deno.readDirSync("/proc/self/fd")].length - 1; // the listing's own
    const before = countOpenFiles() ?? -1;
    assert(before >= 0, "libc is reachable");
    assertEquals(before, inProc());
    const files = Array.from({ length: 50 }, () => Deno.openSync(import.meta.filename!));
    assertEquals(countOpenFiles(), before + 50);
    files.forEach((file) => file.close());
    assertEquals(countOpenFiles(), before);
    const many = Array.from({ length: 9_000 }, () => Deno.openSync(import.meta.filename!));
    countOpenFiles(); // the scan widens from the count it sees
    assertEquals(countOpenFiles(), before + 9_000, "files far past the first scan are found");
    many.forEach((file) => file.close());
    assertEquals(countOpenFiles(), before);
  },
});

Deno.test({
  name: "readFileLimit() agrees with /proc/self/limits, and raiseFileLimit() leaves soft at hard",
  ignore: !LINUX,
  fn: () => {
    const text = Deno.readTextFileSync("/proc/self/limits");
    const line = /^Max open files\s+(\d+)\s+(\d+)/m.exec(text) ?? [];
    assertEquals(line.length, 3);
    assertEquals(readFileLimit(), { soft: Number(line[1]), hard: Number(line[2]) });
    const raised = raiseFileLimit();
    assertEquals(raised?.soft, raised?.hard);
  },
});
