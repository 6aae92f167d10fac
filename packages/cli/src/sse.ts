/**
 * Yields the `data:` payloads of a server-sent-events body, up to (not including) "[DONE]".
 * It reads the body to its very end even after "[DONE]": the receipt is checked there.
 */
export async function* sseData(body: ReadableStream<Uint8Array>): AsyncIterable<string> {
  const decoder = new TextDecoder();
  let buffer = "";
  let done = false;
  for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
    buffer += decoder.decode(chunk, { stream: true });
    let end = buffer.indexOf("\n\n");
    while (end !== -1) {
      const event = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const data = event
        .split("\n")
        .filter((line) => line.startsWith("data:"))
        .map((line) => line.slice(5).trimStart())
        .join("\n");
      if (data === "[DONE]") done = true;
      else if (data !== "" && !done) yield data;
      end = buffer.indexOf("\n\n");
    }
  }
}
