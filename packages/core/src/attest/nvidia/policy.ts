import type { NvidiaArchitecture } from "./device.js";

/**
 * Rules for one GPU's (or NVSwitch's) verified claims. Absent rules are not checked, except the
 * two that fail closed: CC mode must be established and revocation must be known, unless the
 * policy says how it is handled.
 */
export interface GpuPolicy {
  readonly architectures?: readonly NvidiaArchitecture[];
  /** Dotted decimal, e.g. "550.90.07": compared part by part as numbers. */
  readonly minimumDriverVersion?: string;
  /** Dotted hex, e.g. "96.00.9f.00.01": compared part by part as hex numbers. */
  readonly minimumVbiosVersion?: string;
  /**
   * "required" (the default) fails, because the evidence does not carry the CC mode; "attested
   * elsewhere" passes it to whoever established it (an NVML check in the attested CPU TEE, or a
   * RIM comparison of the measurements).
   */
  readonly ccMode?: "required" | "attested elsewhere";
  /** Measurement index -> allowed values (hex, case-insensitive). */
  readonly measurements?: Readonly<Record<number, readonly string[]>>;
  /** True accepts evidence whose certificates' revocation is unknown; default false (fail). */
  readonly allowUnknownRevocation?: boolean;
}
