import type { Cpuid, SnpProduct } from "./types.js";

/**
 * The product a report's CPUID names. Cloister pins one AMD root per product, so an unknown
 * family or model yields undefined rather than a guess: the caller then refuses or asks the
 * certificate chain instead. Genoa's VCEKs also cover the Bergamo and Siena parts (family 19h,
 * models A0h-AFh), which AMD's key service files under "Genoa".
 */
export function productOf(cpuid: Cpuid): SnpProduct | undefined {
  const { family, model } = cpuid;
  if (family === 0x19) {
    if (model <= 0x0f) return "Milan";
    if ((model >= 0x10 && model <= 0x1f) || (model >= 0xa0 && model <= 0xaf)) return "Genoa";
    return undefined;
  }
  if (family === 0x1a && model <= 0x11) return "Turin";
  return undefined;
}
