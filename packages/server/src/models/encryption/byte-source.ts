import type { FileHandle } from "node:fs/promises";

/**
 * Reads a byte stream forward in pieces of exactly the size asked for; a shorter piece means the
 * stream ended. The decryptor asks for one header, then one sealed segment at a time. A piece
 * may be overwritten by the read after the next one.
 */
export interface ByteSource {
  read(length: number): Promise<Buffer>;
}

/**
 * Reads straight from a file, and starts reading the next piece of the same size at once, so
 * that the disk works while the caller decrypts (segments are all one size but the last). Two
 * buffers take turns: fresh 1 MiB allocations cost page faults that showed as most of the
 * decryptor's CPU time. So a piece is valid only until the next read(): callers copy (the
 * cipher does) or are done with it by then.
 */
export function fileByteSource(handle: FileHandle): ByteSource {
  let position = 0;
  let ahead: { length: number; piece: Promise<Buffer> } | undefined;
  const buffers: Buffer[] = [];
  let turn = 0;
  const bufferFor = (length: number): Buffer => {
    turn ^= 1;
    const existing = buffers[turn];
    if (existing !== undefined && existing.length === length) return existing;
    const fresh = Buffer.allocUnsafeSlow(length);
    buffers[turn] = fresh;
    return fresh;
  };
  const readAt = async (start: number, buffer: Buffer): Promise<Buffer> => {
    let filled = 0;
    while (filled < buffer.length) {
      const { bytesRead } = await handle.read(
        buffer,
        filled,
        buffer.length - filled,
        start + filled,
      );
      if (bytesRead === 0) break;
      filled += bytesRead;
    }
    return filled === buffer.length ? buffer : buffer.subarray(0, filled);
  };
  return {
    async read(length) {
      const pending = ahead;
      ahead = undefined;
      let piece: Buffer;
      if (pending !== undefined && pending.length === length) piece = await pending.piece;
      else {
        // A read ahead of another size: wait for it to finish (the handle is shared), then drop it.
        await pending?.piece.catch(() => undefined);
        piece = await readAt(position, length > 1 ? bufferFor(length) : Buffer.alloc(length));
      }
      position += piece.length;
      if (piece.length === length && length > 1) {
        ahead = { length, piece: readAt(position, bufferFor(length)) };
        ahead.piece.catch(() => undefined); // an error surfaces on the read that awaits it
      }
      return piece;
    },
  };
}

/** Regroups the chunks of any async iterable (a network stream, a test) into the pieces asked for. */
export function iterableByteSource(chunks: AsyncIterable<Uint8Array>): ByteSource {
  const iterator = chunks[Symbol.asyncIterator]();
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let done = false;
  return {
    async read(length) {
      while (pendingBytes < length && !done) {
        const next = await iterator.next();
        if (next.done === true) {
          done = true;
          break;
        }
        const chunk = Buffer.from(next.value.buffer, next.value.byteOffset, next.value.byteLength);
        pending.push(chunk);
        pendingBytes += chunk.length;
      }
      const all = pending.length === 1 ? (pending[0] as Buffer) : Buffer.concat(pending);
      const piece = all.subarray(0, Math.min(length, all.length));
      const rest = all.subarray(piece.length);
      pending = rest.length === 0 ? [] : [rest];
      pendingBytes = rest.length;
      return piece;
    },
  };
}
