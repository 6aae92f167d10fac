/** The messages between the hash pool and its workers. */

export interface PoolRequest {
  readonly id: number;
  readonly path: string;
  readonly size: number;
}

export type PoolReply =
  | { readonly id: number; readonly kind: "progress"; readonly bytes: number }
  /** `bytes`: those not yet reported by a progress message. */
  | { readonly id: number; readonly kind: "done"; readonly sha256: string; readonly bytes: number }
  | {
      readonly id: number;
      readonly kind: "error";
      readonly code: string;
      readonly message: string;
    };
