/**
 * The AMD Key Distribution Service (KDS) adapter behind `cloister attest verify
 * --fetch-collateral`. Core never touches the network, so fetching the VCEK, the ASK/ARK chain
 * and the CRL lives here, in the CLI, and only runs when the user asks for it.
 *
 * Everything fetched is public and is verified by core afterwards (the chain to the pinned AMD
 * roots), so the cache only has to be correct, not trusted: a damaged entry is refetched.
 * KDS rate-limits hard, so requests go out one at a time and cached answers are reused for as
 * long as they cannot change (VCEKs and chains forever, the CRL for a day).
 *
 * Interface: AMD "Versioned Chip Endorsement Key (VCEK) Certificate and KDS Interface
 * Specification" (publication 57230), chapter 4.
 */
import { readFile, stat } from "node:fs/promises";
import { toHex } from "@cloister/core";
import {
  CollateralFetchError,
  cacheFile,
  get,
  isDer,
  type Service,
  serialised,
  store,
} from "./http-cache.js";

export { CollateralFetchError } from "./http-cache.js";

export type KdsProduct = "Milan" | "Genoa" | "Turin";

export interface KdsRequest {
  product: KdsProduct;
  /** The report's CHIP_ID (64 bytes). */
  chipId: Uint8Array;
  /** The report's REPORTED_TCB: the VCEK is derived for exactly this TCB. */
  tcb: { bootloader: number; tee: number; snp: number; microcode: number; fmc?: number };
  /**
   * Which key signed the report (KEY_INFO.SIGNING_KEY). Only VCEKs are on the public KDS;
   * passing it lets a VLEK-signed report fail with an error that says why.
   */
  signingKey?: "vcek" | "vlek" | "none";
}

export interface KdsOptions {
  /** Defaults to https://kdsintf.amd.com. */
  baseUrl?: string;
  cacheDir: string;
  fetch?: typeof fetch;
  /** Per HTTP request; defaults to 15000. */
  timeoutMs?: number;
  /** Ignore what is cached and ask KDS again (the answer still replaces the cache entry). */
  refresh?: boolean;
  /** Called with each URL just before it is requested, for progress lines. */
  onRequest?: (url: string) => void;
}

const DEFAULT_BASE_URL = "https://kdsintf.amd.com";
const PRODUCTS: readonly KdsProduct[] = ["Milan", "Genoa", "Turin"];
const CHIP_ID_BYTES = 64;
/** Turin VCEKs are indexed by the first 8 bytes of CHIP_ID only. */
const TURIN_HWID_BYTES = 8;
/** AMD publishes a new CRL at most daily; older copies may miss a revocation. */
const CRL_MAX_AGE_MS = 24 * 60 * 60 * 1000;
/** VCEKs and chains at a given URL never change. */
const FOREVER = Number.POSITIVE_INFINITY;
const KDS: Service = {
  name: "KDS",
  code: "kds",
  accept: "application/octet-stream, application/x-pem-file, */*",
};

const DER: Format = { valid: isDer, invalidCode: "kds.not_der", description: "DER" };
const CHAIN_PEM: Format = {
  valid: isCertChainPem,
  invalidCode: "kds.not_pem",
  description: "a PEM ASK/ARK chain",
};

/** The KDS URL of the VCEK for this chip at this TCB. */
export function vcekUrl(request: KdsRequest, baseUrl: string = DEFAULT_BASE_URL): string {
  const product = checkProduct(request.product);
  if (request.signingKey === "vlek") {
    throw new CollateralFetchError(
      "kds.vlek",
      "This report is signed with a VLEK, which AMD issues only to the cloud provider; the public KDS cannot serve it, so supply the VLEK certificate from the provider instead.",
    );
  }
  if (request.signingKey === "none") {
    throw new CollateralFetchError(
      "kds.invalid_request",
      "This report names no signing key, so there is no VCEK to fetch.",
    );
  }
  if (request.chipId.length !== CHIP_ID_BYTES) {
    throw new CollateralFetchError(
      "kds.invalid_request",
      `CHIP_ID must be ${CHIP_ID_BYTES} bytes to look up a VCEK, not ${request.chipId.length}.`,
    );
  }
  const hwid = product === "Turin" ? request.chipId.subarray(0, TURIN_HWID_BYTES) : request.chipId;
  if (hwid.every((b) => b === 0)) {
    throw new CollateralFetchError(
      "kds.chip_id_masked",
      "The report's CHIP_ID is zero (MASK_CHIP_ID is set), so KDS cannot tell which chip's VCEK to serve.",
    );
  }
  const { tcb } = request;
  const query = [
    `blSPL=${spl("bootloader", tcb.bootloader)}`,
    `teeSPL=${spl("tee", tcb.tee)}`,
    `snpSPL=${spl("snp", tcb.snp)}`,
    `ucodeSPL=${spl("microcode", tcb.microcode)}`,
  ];
  if (product === "Turin") {
    if (tcb.fmc === undefined) {
      throw new CollateralFetchError(
        "kds.invalid_request",
        "A Turin VCEK is derived from the FMC SPL too, and the request has none.",
      );
    }
    query.push(`fmcSPL=${spl("fmc", tcb.fmc)}`);
  }
  return `${trimBase(baseUrl)}/vcek/v1/${product}/${toHex(hwid)}?${query.join("&")}`;
}

/** The VCEK (DER) for this chip at this TCB, from the cache or KDS. */
export async function fetchVcek(request: KdsRequest, options: KdsOptions): Promise<Uint8Array> {
  const url = vcekUrl(request, options.baseUrl);
  return cached(url, `vcek-${request.product}.der`, options, { ...DER, maxAgeMs: FOREVER });
}

/** The product's ASK then ARK, as KDS serves them (PEM), from the cache or KDS. */
export async function fetchCertChain(product: KdsProduct, options: KdsOptions): Promise<string> {
  const url = `${trimBase(options.baseUrl)}/vcek/v1/${checkProduct(product)}/cert_chain`;
  const bytes = await cached(url, `cert_chain-${product}.pem`, options, {
    ...CHAIN_PEM,
    maxAgeMs: FOREVER,
  });
  return new TextDecoder().decode(bytes);
}

/** The product's VCEK CRL (DER), from a cache younger than 24 hours or KDS. */
export async function fetchCrl(product: KdsProduct, options: KdsOptions): Promise<Uint8Array> {
  const url = `${trimBase(options.baseUrl)}/vcek/v1/${checkProduct(product)}/crl`;
  return cached(url, `crl-${product}.der`, options, { ...DER, maxAgeMs: CRL_MAX_AGE_MS });
}

/** What an endpoint serves, so that damaged cache entries and error pages are caught. */
interface Format {
  /** Whether bytes (cached or fetched) have the shape the endpoint serves. */
  valid: (bytes: Uint8Array) => boolean;
  /** The error code and wording when KDS answers with something else. */
  invalidCode: string;
  description: string;
}

interface CachePolicy extends Format {
  /** How long an entry stays fresh, measured from when it was fetched (the file's mtime). */
  maxAgeMs: number;
}

/** Serves `url` from the cache when fresh and well-formed; otherwise fetches and caches it. */
async function cached(
  url: string,
  suffix: string,
  options: KdsOptions,
  policy: CachePolicy,
): Promise<Uint8Array> {
  const file = cacheFile(options.cacheDir, url, suffix);
  if (options.refresh !== true) {
    const hit = await readFresh(file, policy.maxAgeMs);
    if (hit !== undefined && policy.valid(hit)) return hit;
  }
  const { body: bytes } = await serialised(() => get(KDS, url, options));
  if (!policy.valid(bytes)) {
    throw new CollateralFetchError(
      policy.invalidCode,
      `KDS answered ${url} with something that is not ${policy.description}.`,
      { url },
    );
  }
  await store(KDS, options.cacheDir, file, bytes);
  return bytes;
}

/** The entry's bytes if it exists and is younger than maxAgeMs; a missing or unreadable entry is a miss. */
async function readFresh(file: string, maxAgeMs: number): Promise<Uint8Array | undefined> {
  try {
    if (Number.isFinite(maxAgeMs)) {
      const { mtimeMs } = await stat(file);
      if (Date.now() - mtimeMs > maxAgeMs) return undefined;
    }
    return new Uint8Array(await readFile(file));
  } catch {
    return undefined;
  }
}

/** KDS serves the ASK then the ARK: two PEM certificates. */
function isCertChainPem(bytes: Uint8Array): boolean {
  const text = new TextDecoder().decode(bytes);
  const begins = text.match(/-----BEGIN CERTIFICATE-----/g)?.length ?? 0;
  const ends = text.match(/-----END CERTIFICATE-----/g)?.length ?? 0;
  return begins === 2 && ends === 2;
}

/** SPL values are decimal, at least two digits with a leading zero, as in AMD's examples. */
function spl(name: string, value: number): string {
  if (!Number.isInteger(value) || value < 0 || value > 255) {
    throw new CollateralFetchError(
      "kds.invalid_request",
      `The ${name} SPL must be an integer from 0 to 255, not ${value}.`,
    );
  }
  return String(value).padStart(2, "0");
}

function checkProduct(product: string): KdsProduct {
  if (!PRODUCTS.includes(product as KdsProduct)) {
    throw new CollateralFetchError(
      "kds.invalid_request",
      `KDS serves ${PRODUCTS.join(", ")} collateral, not "${product}".`,
    );
  }
  return product as KdsProduct;
}

function trimBase(baseUrl: string = DEFAULT_BASE_URL): string {
  return baseUrl.replace(/\/+$/, "");
}
