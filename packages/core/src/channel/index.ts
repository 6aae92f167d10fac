export type { AeadEncryptionContext, AeadInterface } from "@hpke/core";
export {
  decodeRequest,
  decodeResponse,
  type EncodeOptions,
  encodeRequest,
  encodeResponse,
  type Fields,
  type InformationalResponse,
  type RequestMessage,
  type ResponseMessage,
} from "./bhttp.js";
export {
  ResponseStreamDecoder,
  ResponseStreamEncoder,
  type ResponseStreamEvent,
} from "./bhttp-stream.js";
export { MAX_CHUNK_PLAINTEXT } from "./chunk-framing.js";
export {
  type ChunkedResponseSealer,
  type ClientChunkedRequest,
  decapsulateChunkedRequest,
  encapsulateChunkedRequest,
  type GatewayChunkedRequest,
} from "./chunked.js";
export { MAX_RECEIVED_CHUNK } from "./chunked-response.js";
export * from "./constants.js";
export * from "./errors.js";
export {
  exportGatewayPrivateKey,
  type GatewayKey,
  generateGatewayKey,
  importGatewayKey,
} from "./gateway-key.js";
export {
  decodeKeyConfig,
  decodeKeyConfigList,
  encodeKeyConfig,
  encodeKeyConfigList,
  type KeyConfig,
} from "./key-config.js";
export {
  type ClientRequest,
  decapsulateRequest,
  type EncapsulateOptions,
  encapsulateRequest,
  type GatewayRequest,
} from "./ohttp.js";
export { ReplayCache, type ReplayCacheOptions } from "./replay.js";
export { chunkNonce } from "./response-key.js";
export { type AeadFactory, hpkeCipherSuite, useAeads, webAeads } from "./suites.js";
