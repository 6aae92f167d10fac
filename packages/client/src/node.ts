import { useAeads } from "@cloister/core";
import { nodeAeads } from "./node/aead.js";
import { nodeRimVerifier } from "./node/nvidia-rim.js";
import { useRimVerifier } from "./rim-verifier.js";

// In Node the channel's AEADs run on OpenSSL (see node/aead.ts); browsers keep WebCrypto.
useAeads(nodeAeads);
// Only Node can check the XML signatures of NVIDIA's RIMs (see rim-verifier.ts).
useRimVerifier(nodeRimVerifier());

export * from "./index.js";
export { nodeRimVerifier };
