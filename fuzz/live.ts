/**
 * The live part of the fuzzing: random bytes and mutated messages against a running server, before and
 * after authentication. Every connection must be answered with a defined code or closed, every sealed
 * request must get a well-formed answer, and the server must keep serving a normal client afterwards.
 *
 * @module
 */
import fc from "fast-check";
import { utf8 } from "../lib/bytes.ts";
import { describeCode } from "../protocol/codes.ts";
import type { ErrorCode } from "../protocol/codes.ts";
import { CLIENT_CONNECTS_IN_FLIGHT_MAX } from "../client/limits.ts";
import { TEXT_COMMAND_BYTES_MAX } from "../protocol/limits.ts";
import { isFailureAnswer } from "../protocol/text.ts";
import { connectAs, connectRaw, readUntilClosed } from "../tools/harness.ts";
import type { ServerHandle } from "../tools/harness.ts";
import { writeAll } from "../protocol/frame.ts";

/** What the live fuzzing sent and saw. */
export interface LiveReport {
  connections: number;
  requests: number;
  answers: { structured: number; text: number };
}

const TEXT_ANSWER = /^(Balance: |Transaction Successful$|Contact Information Updated$)/;

/** Sends `connections` garbage connections and `requests` random sealed requests; throws on a bad answer. */
export async function fuzzLiveServer(
  server: ServerHandle,
  options: { connections: number; requests: number; seed: number },
): Promise<LiveReport> {
  const report: LiveReport = { connections: 0, requests: 0, answers: { structured: 0, text: 0 } };
  const garbage = fc.sample(fc.uint8Array({ minLength: 1, maxLength: 2048 }), {
    numRuns: options.connections,
    seed: options.seed,
  });
  let next = 0;
  await Promise.all(Array.from({ length: CLIENT_CONNECTS_IN_FLIGHT_MAX }, async () => {
    while (next < garbage.length) {
      const bytes = garbage[next++]!;
      const conn = await connectRaw(server);
      await writeAll(conn, bytes).catch(() => {});
      const answer = await readUntilClosed(conn, { timeoutMs: 15_000 });
      if (answer.length > 0 && answer[4] !== 0x0f) {
        throw new Error("A garbage connection got more than an error frame");
      }
      report.connections += 1;
    }
  }));
  const plaintexts = fc.sample(requestPlaintext(), { numRuns: options.requests, seed: options.seed + 1 });
  const sessions = await Promise.all(["client-1", "client-2"].map((name) => connectAs(server, name)));
  for (const [index, plaintext] of plaintexts.entries()) {
    const session = sessions[index % sessions.length]!;
    if (plaintext.kind === "text") {
      const answer = await session.sendText(plaintext.text);
      if (!TEXT_ANSWER.test(answer) && !isFailureAnswer(answer)) {
        throw new Error(`Undefined text answer "${answer}"`);
      }
      report.answers.text += 1;
    } else {
      const response = await session.sendStructured(plaintext.request);
      if (!response.ok && !isDefinedCode(response.error.code)) {
        throw new Error(`Undefined structured code "${response.error.code}"`);
      }
      report.answers.structured += 1;
    }
    report.requests += 1;
  }
  await Promise.all(sessions.map((session) => session.close()));
  const check = await connectAs(server, "client-3");
  const balance = await check.sendText("Check Balance");
  await check.close();
  if (!balance.startsWith("Balance: ")) throw new Error(`The server stopped serving: "${balance}"`);
  return report;
}

function isDefinedCode(code: string): boolean {
  try {
    return typeof describeCode(code as ErrorCode) === "string";
  } catch {
    return false;
  }
}

type Plaintext = { kind: "text"; text: string } | { kind: "structured"; request: Record<string, unknown> };

/** Text commands and structured requests, well-formed or not, that fit one sealed frame. */
function requestPlaintext(): fc.Arbitrary<Plaintext> {
  const text = fc.oneof(
    fc.constantFrom("Check Balance", "Transfer $1 to Account XYZ", "Update Contact Information", "Transfer"),
    fc.string({ maxLength: 120 }),
    fc.string({ unit: "binary", maxLength: 120 }),
  ).filter((value) => utf8(value).length <= TEXT_COMMAND_BYTES_MAX);
  const structured = fc.oneof(
    fc.record({
      v: fc.constantFrom(1, 2, "1"),
      id: fc.string({ minLength: 1, maxLength: 10 }),
      op: fc.constantFrom("balance", "transfer", "history", "update_contact", "steal"),
      to: fc.constantFrom("XYZ", "ACC-0001", "nope"),
      amount_minor: fc.oneof(
        fc.constantFrom("1", "0", "-1", "1e3"),
        fc.bigInt({ min: 0n, max: 10n ** 20n }).map(String),
      ),
      idempotency_key: fc.string({ minLength: 1, maxLength: 20 }),
      limit: fc.integer({ min: -1, max: 200 }),
      email: fc.string({ maxLength: 60 }),
    }, { requiredKeys: ["v", "id", "op"] }),
    fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 6 }),
  );
  return fc.oneof(
    text.map((value): Plaintext => ({ kind: "text", text: value })),
    structured.map((request): Plaintext => ({ kind: "structured", request })),
  );
}
