export {
  DigestCache,
  type DigestCacheOptions,
  defaultDigestCachePath,
} from "./digest-cache.js";
export {
  type HashedFile,
  type HashModelOptions,
  type HashModelResult,
  type HashProgress,
  hashModel,
} from "./hash-model.js";
export {
  type FileIdentity,
  type ListModelFilesOptions,
  listModelFiles,
  type ModelFile,
} from "./list-files.js";
export { GIT_PATHS } from "./model-names.js";
