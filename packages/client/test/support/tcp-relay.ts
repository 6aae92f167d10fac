import { createConnection, createServer, type Server } from "node:net";

export interface TcpRelay {
  readonly url: string;
  /** Every byte that crossed the relay, in both directions. */
  captured(): Buffer;
  close(): Promise<void>;
}

/** A plain TCP relay that records everything it forwards: what an operator or a network sees. */
export async function startTcpRelay(target: URL): Promise<TcpRelay> {
  const chunks: Buffer[] = [];
  const server: Server = createServer((inbound) => {
    const outbound = createConnection({ host: target.hostname, port: Number(target.port) });
    inbound.on("data", (data: Buffer) => chunks.push(Buffer.from(data)));
    outbound.on("data", (data: Buffer) => chunks.push(Buffer.from(data)));
    inbound.pipe(outbound).pipe(inbound);
    inbound.on("error", () => outbound.destroy());
    outbound.on("error", () => inbound.destroy());
    inbound.on("close", () => outbound.destroy());
    outbound.on("close", () => inbound.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${address.port}`,
    captured: () => Buffer.concat(chunks),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
      }),
  };
}
