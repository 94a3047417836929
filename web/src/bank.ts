/**
 * The page's one session with the bank: the client library over a WebSocket to this page's own origin,
 * authenticated with this browser's held key. Requests run one at a time. When the socket closes under us
 * (the server restarted, the network dropped, the key was revoked) it reconnects, with a growing pause;
 * a handshake the bank refuses means the key is no longer accepted, and the page is told so.
 *
 * @module
 */
import { BankClient, ClientError, connectWebSocket, heldClientKey } from "../../client/mod.ts";
import type { ConnectOptions, HeldKey, SecureConn } from "../../client/mod.ts";

/** Pauses between reconnection attempts grow to this. */
const RECONNECT_DELAY_MAX_MS = 15_000;
const RECONNECT_DELAY_FIRST_MS = 250;
/** Each connection attempt, the WebSocket and the bank handshake, within this. */
const CONNECT_TIMEOUT_MS = 10_000;

export type ConnectionState = "connecting" | "online" | "offline" | "key_refused";

/** Where the page's WebSocket goes: the bank's endpoint on the origin that served the page. */
export function socketUrl(): string {
  return `wss://${location.host}/ws`;
}

/** What a connection needs besides the key: this origin's WebSocket. */
export function connectOptions(): Omit<ConnectOptions, "credential"> {
  return {
    host: location.hostname,
    port: Number(location.port || 443),
    timeoutMs: CONNECT_TIMEOUT_MS,
    connect: () => connectWebSocket(socketUrl()),
  };
}

export class WebBank {
  readonly #options: ConnectOptions;
  readonly #onState: (state: ConnectionState) => void;
  #client: Promise<BankClient> | null = null;
  #queue: Promise<unknown> = Promise.resolve();
  #stopped = false;
  #delayMs = RECONNECT_DELAY_FIRST_MS;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #latest: SecureConn | null = null;
  #busy = false;

  constructor(
    key: { held: HeldKey; identity: string; bankPublicKey: Uint8Array },
    onState: (state: ConnectionState) => void,
  ) {
    this.#onState = onState;
    const credential = heldClientKey(key.held, key);
    this.#options = {
      ...connectOptions(),
      credential,
      // The latest socket closing while no request runs means the session is gone (a request in flight
      // hears of it itself, and the library retries a transfer on a new socket).
      connect: async () => {
        const opened: { conn: SecureConn | null } = { conn: null };
        const conn = await connectWebSocket(socketUrl(), {
          onClose: () => {
            if (!this.#busy && this.#latest === opened.conn) this.#lost();
          },
        });
        opened.conn = conn;
        this.#latest = conn;
        return conn;
      },
    };
  }

  /** Runs one request on the session, after the ones before it; connects first if need be. */
  run<T>(work: (client: BankClient) => Promise<T>): Promise<T> {
    const next = this.#queue.then(async () => {
      const client = await this.#connected();
      this.#busy = true;
      try {
        return await work(client);
      } catch (error) {
        // No answer came: this session is no use any more; the next request opens another.
        if (error instanceof ClientError) this.#discard();
        throw error;
      } finally {
        this.#busy = false;
      }
    });
    this.#queue = next.catch(() => {});
    return next;
  }

  /** Connects now (the page calls it on load); the state callback says how it went. */
  start(): Promise<void> {
    return this.run(() => Promise.resolve());
  }

  /** Ends the session for good (sign out). */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    const client = await this.#client?.catch(() => null);
    await client?.close().catch(() => {});
  }

  /** The key was replaced (rotation): later connections use the new one. */
  replaceKey(held: HeldKey): void {
    const old = this.#options.credential;
    this.#options.credential = heldClientKey(held, {
      identity: old.identity,
      bankPublicKey: old.bankPublicKey,
    });
  }

  #connected(): Promise<BankClient> {
    if (this.#stopped) return Promise.reject(new ClientError("Signed out"));
    if (this.#client === null) {
      this.#onState("connecting");
      const client = BankClient.connect(this.#options);
      this.#client = client;
      client.then(() => {
        this.#delayMs = RECONNECT_DELAY_FIRST_MS;
        this.#onState("online");
      }, (error: unknown) => {
        this.#client = null;
        this.#failed(error);
      });
    }
    return this.#client;
  }

  #failed(error: unknown): void {
    if (this.#stopped) return;
    if (error instanceof ClientError && error.failure?.code === "handshake_failed") {
      this.#stopped = true;
      this.#onState("key_refused");
      return;
    }
    this.#onState("offline");
    this.#retryLater();
  }

  #lost(): void {
    if (this.#stopped) return;
    this.#discard();
    this.#retryLater();
  }

  #discard(): void {
    const client = this.#client;
    this.#client = null;
    client?.then((open) => open.close(), () => {}).catch(() => {});
  }

  #retryLater(): void {
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      if (this.#client === null && !this.#stopped) this.start().catch(() => {});
    }, this.#delayMs);
    this.#delayMs = Math.min(RECONNECT_DELAY_MAX_MS, this.#delayMs * 2);
  }
}
