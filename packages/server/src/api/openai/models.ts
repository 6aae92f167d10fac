import type { EngineRegistry } from "../../engines/registry.js";
import type { InnerHandler } from "../inner.js";
import { json } from "./json.js";

/** GET /v1/models, with each model's digest so callers can compare it with the manifest. */
export function models(registry: EngineRegistry): InnerHandler {
  const created = Math.floor(Date.now() / 1000);
  return async () =>
    json(200, {
      object: "list",
      data: registry.all.map((engine) => ({
        id: engine.id,
        object: "model",
        created,
        owned_by: "cloister",
        kind: engine.kind,
        digest: engine.digest,
      })),
    });
}
