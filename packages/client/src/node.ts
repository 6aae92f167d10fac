import { useAeads } from "@cloister/core";
import { nodeAeads } from "./node/aead.js";

// In Node the channel's AEADs run on OpenSSL (see node/aead.ts); browsers keep WebCrypto.
useAeads(nodeAeads);

export * from "./index.js";
export { nodeRimVerifier } from "./node/nvidia-rim.js";
