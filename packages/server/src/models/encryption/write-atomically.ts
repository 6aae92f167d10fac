import { randomBytes } from "node:crypto";
import { type FileHandle, open, rename, rm } from "node:fs/promises";
import { basename, dirname, join } from "node:path";

/**
 * Writes the chunks to a temporary file in the destination's directory (mode 0600: it may be
 * plaintext model weights) and renames it over `destination` only after the last chunk was
 * written and synced. On any error the temporary file is removed: nothing is left half-written.
 */
export async function writeAtomically(
  destination: string,
  chunks: AsyncIterable<Uint8Array>,
): Promise<void> {
  const temporary = join(
    dirname(destination),
    `.${basename(destination)}.${randomBytes(6).toString("hex")}.partial`,
  );
  const handle = await open(temporary, "wx", 0o600);
  try {
    try {
      // One write in flight while the next chunk is produced (decrypted): disk and CPU overlap.
      let writing: Promise<void> = Promise.resolve();
      for await (const chunk of chunks) {
        await writing;
        writing = writeAll(handle, chunk);
        writing.catch(() => undefined); // awaited on the next turn or after the loop
      }
      await writing;
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temporary, destination);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}

async function writeAll(handle: FileHandle, chunk: Uint8Array): Promise<void> {
  let written = 0;
  while (written < chunk.length) {
    written += (await handle.write(chunk, written, chunk.length - written)).bytesWritten;
  }
}
