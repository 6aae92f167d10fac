/** Connection-level headers describe one hop (to the gateway, to the proxy), not the request inside. */
export const CONNECTION_HEADERS: ReadonlySet<string> = new Set([
  "host",
  "connection",
  "content-length",
  "transfer-encoding",
  "keep-alive",
  "upgrade",
]);
