export { type DecryptOptions, decryptModelFile } from "./decrypt-file.js";
export { openEncryptedModel, readEncryptedModelHeader } from "./decrypt-stream.js";
export {
  type DecryptedModelDirEntry,
  decryptModelDir,
  ENCRYPTED_FILE_SUFFIX,
  type EncryptedModelDirEntry,
  encryptModelDir,
  type ModelDirProgress,
} from "./directory.js";
export {
  type EncryptedModelInfo,
  type EncryptOptions,
  encryptModelFile,
  encryptModelStream,
  type StreamEncryptOptions,
} from "./encrypt.js";
export {
  MODEL_KEYS_ENV,
  modelKeyFromJwk,
  modelKeysFromEnv,
  modelKeysFromJson,
  modelKeyToJwk,
} from "./jwk.js";
export { createModelKeyFile, readModelKeyFile } from "./key-file.js";
export { generateModelKey, ModelKey, type ModelKeyring, modelKeyring } from "./model-key.js";
