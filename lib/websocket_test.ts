import { assertEquals } from "@std/assert";
import {
  closePayload,
  encodeServerFrame,
  isWebSocketKey,
  readFrameHeader,
  unmask,
  websocketAccept,
} from "./websocket.ts";

Deno.test("websocketAccept() gives RFC 6455's example accept value", async () => {
  assertEquals(await websocketAccept("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
  assertEquals(isWebSocketKey("dGhlIHNhbXBsZSBub25jZQ=="), true);
  assertEquals(isWebSocketKey("dGhlIHNhbXBsZSBub25jZQ="), false);
  assertEquals(isWebSocketKey("c2hvcnQ="), false);
});

Deno.test("readFrameHeader() reads RFC 6455's masked example and each length form", () => {
  // "Hello", masked with 37 fa 21 3d (RFC 6455 section 5.7).
  const hello = Uint8Array.of(0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58);
  const header = readFrameHeader(hello);
  assertEquals(header.kind, "frame");
  if (header.kind !== "frame") return;
  assertEquals([header.fin, header.opcode, header.length, header.headerBytes], [true, 1, 5, 6]);
  const payload = hello.slice(header.headerBytes);
  unmask(payload, header.mask!);
  assertEquals(new TextDecoder().decode(payload), "Hello");
  for (const length of [0, 125, 126, 65_535, 65_536, 1_000_000]) {
    const frame = encodeServerFrame(0x2, new Uint8Array(length));
    const read = readFrameHeader(frame);
    assertEquals(read.kind === "frame" ? [read.length, read.mask, frame.length - read.headerBytes] : read, [
      length,
      null,
      length,
    ]);
    assertEquals(
      readFrameHeader(frame.subarray(0, (read as { headerBytes: number }).headerBytes - 1)).kind,
      "incomplete",
    );
  }
});

Deno.test("readFrameHeader() refuses reserved bits, fragmented or long control frames and absurd lengths", () => {
  assertEquals(readFrameHeader(Uint8Array.of(0xc2, 0x80)).kind, "invalid");
  assertEquals(readFrameHeader(Uint8Array.of(0x09, 0x80)).kind, "invalid", "a ping without FIN");
  assertEquals(readFrameHeader(Uint8Array.of(0x89, 0xfe, 0x00, 0x7e)).kind, "invalid", "a 126-byte ping");
  const huge = Uint8Array.of(0x82, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0);
  assertEquals(readFrameHeader(huge).kind, "invalid");
  assertEquals(Array.from(closePayload(1009, "too big")).slice(0, 2), [0x03, 0xf1]);
});
