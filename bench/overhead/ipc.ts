/**
 * Typed request/response calls between the benchmark and its child processes, over the IPC
 * channel that `fork` opens. Each measured process is its own Node process so that the client
 * and the server never share an event loop, and so that each one's memory can be read alone.
 */

import { type ChildProcess, fork } from "node:child_process";

/** What a child serves: methods taking at most one JSON-serialisable argument. */
// biome-ignore lint/suspicious/noExplicitAny: a constraint, narrowed by each child's own interface.
export type Api = Record<string, (params: any) => Promise<unknown>>;

type ToChild = { readonly id: number; readonly method: string; readonly params: unknown };
type FromChild =
  | { readonly ready: unknown }
  | { readonly id: number; readonly result: unknown }
  | { readonly id: number; readonly error: string };

/**
 * Child side: announces `ready`, then answers calls until the parent disconnects. `close` is
 * awaited before exiting so that, under --cpu-prof, the profile is written on a clean exit.
 */
export function serve<A extends Api>(api: A, ready: unknown, close: () => Promise<void>): void {
  const send = process.send?.bind(process);
  if (send === undefined) throw new Error("Run this file through the benchmark (it needs IPC).");
  process.on("message", async ({ id, method, params }: ToChild) => {
    try {
      const handler = api[method];
      if (handler === undefined) throw new Error(`No method ${method}.`);
      send({ id, result: await handler(params) } satisfies FromChild);
    } catch (error) {
      send({
        id,
        error: error instanceof Error ? error.message : String(error),
      } satisfies FromChild);
    }
  });
  process.once("disconnect", () => {
    close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  });
  send({ ready } satisfies FromChild);
}

/** Parent side of one child process. */
export class Child<A extends Api, Ready> {
  readonly ready: Ready;
  readonly pid: number;
  readonly #process: ChildProcess;
  readonly #pending = new Map<
    number,
    { resolve: (v: unknown) => void; reject: (e: Error) => void }
  >();
  #next = 0;

  private constructor(process: ChildProcess, ready: Ready) {
    this.#process = process;
    this.ready = ready;
    this.pid = process.pid ?? -1;
    process.on("message", (message: FromChild) => {
      if (!("id" in message)) return;
      const waiter = this.#pending.get(message.id);
      this.#pending.delete(message.id);
      if ("error" in message) waiter?.reject(new Error(message.error));
      else waiter?.resolve(message.result);
    });
    process.on("exit", (code) => {
      for (const waiter of this.#pending.values())
        waiter.reject(new Error(`child ${this.pid} exited (${code})`));
      this.#pending.clear();
    });
  }

  /**
   * Starts `file` with TypeScript loaded from source (as the tests run it) and waits for its
   * ready message. `execArgv` adds Node flags, e.g. --cpu-prof.
   */
  static start<A extends Api, Ready>(
    file: URL,
    args: readonly string[],
    execArgv: readonly string[],
  ): Promise<Child<A, Ready>> {
    const child = fork(file, [...args], {
      execArgv: ["--conditions=source", "--import", "tsx", "--expose-gc", ...execArgv],
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
    return new Promise((resolve, reject) => {
      const onExit = (code: number | null) =>
        reject(new Error(`${file.pathname} exited (${code}) before it was ready`));
      child.once("exit", onExit);
      child.once("error", reject);
      child.on("message", function onReady(message: FromChild) {
        if (!("ready" in message)) return;
        child.off("message", onReady).off("exit", onExit).off("error", reject);
        resolve(new Child<A, Ready>(child, message.ready as Ready));
      });
    });
  }

  call<K extends keyof A & string>(
    method: K,
    ...params: Parameters<A[K]>
  ): Promise<Awaited<ReturnType<A[K]>>> {
    const id = this.#next++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.#process.send({ id, method, params: params[0] } satisfies ToChild);
    });
  }

  /** Lets the child close what it opened and exit on its own (which writes any CPU profile). */
  async stop(): Promise<void> {
    if (this.#process.exitCode !== null || this.#process.signalCode !== null) return;
    const exited = new Promise((resolve) => this.#process.once("exit", resolve));
    this.#process.disconnect();
    await exited;
  }
}
