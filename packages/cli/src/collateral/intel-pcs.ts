/**
 * The Intel PCS (or on-premises PCCS) adapter behind `cloister attest verify
 * --fetch-collateral` for SGX and TDX quotes. Core never touches the network, so fetching the
 * TCB info, QE identity and CRLs lives here, in the CLI, and only runs when the user asks.
 *
 * Everything fetched is public and signed by Intel; core checks the signatures and chains to
 * the pinned Intel SGX Root CA, so the cache only has to be correct, not trusted: a damaged
 * entry is refetched. Unlike VCEKs, this collateral is reissued (TCB info and QE identity
 * carry a nextUpdate, CRLs too), so an entry is reused for a day at most, and not past the
 * nextUpdate its document states.
 *
 * Interface: Intel "SGX and TDX Services, V4 API" (api.trustedservices.intel.com): GET
 * {sgx,tdx}/certification/v4/tcb, …/qe/identity and sgx/certification/v4/pckcrl. A PCCS
 * serves the same paths, and the root CA CRL at sgx/certification/v4/rootcacrl.
 */
import { Buffer } from "node:buffer";
import { readFile } from "node:fs/promises";
import { fromHex } from "@cloister/core";
import {
  CollateralFetchError,
  cacheFile,
  get,
  isDer,
  type Service,
  serialised,
  store,
} from "./http-cache.js";

export interface PcsRequest {
  tee: "sgx" | "tdx";
  /** The PCK certificate's FMSPC: 6 bytes as 12 hex digits (lower case in the request URL). */
  fmspc: string;
  /** The PCK CA that issued the PCK certificate: its CRL is the one fetched. */
  ca: "platform" | "processor";
}

export interface PcsOptions {
  /** Defaults to https://api.trustedservices.intel.com; a PCCS is e.g. https://host:8081. */
  baseUrl?: string;
  /** baseUrl is a PCCS: the root CA CRL then comes from it too, and messages name it. */
  pccs?: boolean;
  /** Where the Intel SGX Root CA CRL is; defaults to Intel's, or the PCCS's in PCCS mode. */
  rootCrlUrl?: string;
  cacheDir: string;
  fetch?: typeof fetch;
  /** Per HTTP request; defaults to 15000. */
  timeoutMs?: number;
  /** Ignore what is cached and ask again (the answers still replace the cache entries). */
  refresh?: boolean;
  /** Called with each URL just before it is requested, for progress lines. */
  onRequest?: (url: string) => void;
}

/** The `format` of the offline collateral bundle that core reads. */
export const DCAP_COLLATERAL_FORMAT = "cloister/dcap-collateral/v1";

const DEFAULT_BASE_URL = "https://api.trustedservices.intel.com";
const DEFAULT_ROOT_CRL_URL = "https://certificates.trustedservices.intel.com/IntelSGXRootCA.der";
/** Intel reissues collateral at least monthly and revocations any day: reuse it a day at most. */
const MAX_AGE_MS = 24 * 60 * 60 * 1000;
const ACCEPT = "application/json, application/pkix-crl, application/x-pem-file, */*";
const PCS: Service = { name: "Intel PCS", code: "pcs", accept: ACCEPT };
const PCCS: Service = { name: "PCCS", code: "pcs", accept: ACCEPT };

/**
 * The TCB info, QE identity, PCK CRL (of request.ca) and root CA CRL for a quote, from a cache
 * younger than a day or from the PCS, as the Cloister offline collateral bundle (JSON text).
 */
export async function fetchDcapCollateral(
  request: PcsRequest,
  options: PcsOptions,
): Promise<string> {
  const { tee, fmspc, ca } = checkRequest(request);
  const base = (options.baseUrl ?? DEFAULT_BASE_URL).replace(/\/+$/, "");
  const pccs = options.pccs === true;
  const service = pccs ? PCCS : PCS;
  const rootCrlUrl =
    options.rootCrlUrl ?? (pccs ? `${base}/sgx/certification/v4/rootcacrl` : DEFAULT_ROOT_CRL_URL);

  const tcbInfo = await resource(service, options, {
    url: `${base}/${tee}/certification/v4/tcb?fmspc=${fmspc}`,
    suffix: `tcb-info-${tee}.json`,
    chainHeader: "TCB-Info-Issuer-Chain",
    decode: (body) => signedJson(body, "tcbInfo"),
    invalid: { code: "pcs.not_json", description: "a TCB info JSON document" },
  });
  const qeIdentity = await resource(service, options, {
    url: `${base}/${tee}/certification/v4/qe/identity`,
    suffix: `qe-identity-${tee}.json`,
    decode: (body) => signedJson(body, "enclaveIdentity"),
    invalid: { code: "pcs.not_json", description: "a QE identity JSON document" },
  });
  const pckCrl = await resource(service, options, {
    url: `${base}/sgx/certification/v4/pckcrl?ca=${ca}&encoding=der`,
    suffix: `pck-crl-${ca}.json`,
    chainHeader: "SGX-PCK-CRL-Issuer-Chain",
    decode: crl,
    invalid: { code: "pcs.not_crl", description: "a CRL" },
  });
  const rootCrl = await resource(service, options, {
    url: rootCrlUrl,
    suffix: "root-ca-crl.json",
    decode: crl,
    invalid: { code: "pcs.not_crl", description: "a CRL" },
  });

  // resource() never answers an endpoint that names a chainHeader without its chain.
  return JSON.stringify({
    format: DCAP_COLLATERAL_FORMAT,
    tcbInfo: tcbInfo.member,
    qeIdentity: qeIdentity.member,
    tcbSigningChain: tcbInfo.issuerChain,
    pckCrl: pckCrl.member,
    rootCrl: rootCrl.member,
    pckCrlIssuerChain: pckCrl.issuerChain,
  });
}

/** One endpoint: where it is and how its body becomes a bundle member. */
interface Endpoint {
  url: string;
  /** Ends the cache file's name, so that the cache directory says what each entry is. */
  suffix: string;
  /** The header carrying the URL-encoded PEM chain that signs the body, when the bundle needs it. */
  chainHeader?: string;
  /** The bundle member, or undefined when the body is not what the endpoint serves. */
  decode: (body: Uint8Array) => Decoded | undefined;
  /** The error when a fresh answer does not decode. */
  invalid: { code: string; description: string };
}

interface Decoded {
  member: string;
  /** When the document says its successor is due (ms since the epoch), if it says. */
  nextUpdate: number | undefined;
}

interface Answer {
  member: string;
  issuerChain: string | undefined;
}

/** What a cache file holds: the body as served, its issuer chain (decoded) and when it came. */
interface Entry {
  fetchedAt: string;
  body: string;
  issuerChain?: string;
}

/** Serves the endpoint from the cache when fresh and well-formed; otherwise fetches and caches. */
async function resource(
  service: Service,
  options: PcsOptions,
  endpoint: Endpoint,
): Promise<Answer> {
  const file = cacheFile(options.cacheDir, endpoint.url, endpoint.suffix);
  if (options.refresh !== true) {
    const hit = await readFresh(file, endpoint);
    if (hit !== undefined) return hit;
  }
  const { body, headers } = await serialised(() => get(service, endpoint.url, options));
  const decoded = endpoint.decode(body);
  if (decoded === undefined) {
    throw new CollateralFetchError(
      endpoint.invalid.code,
      `${service.name} answered ${endpoint.url} with something that is not ${endpoint.invalid.description}.`,
      { url: endpoint.url },
    );
  }
  let issuerChain: string | undefined;
  if (endpoint.chainHeader !== undefined) {
    const header = headers.get(endpoint.chainHeader);
    if (header === null) {
      throw new CollateralFetchError(
        "pcs.missing_issuer_chain",
        `${service.name} answered ${endpoint.url} without the ${endpoint.chainHeader} header that carries the signing chain.`,
        { url: endpoint.url },
      );
    }
    issuerChain = decodeChain(header);
    if (issuerChain === undefined) {
      throw new CollateralFetchError(
        "pcs.bad_issuer_chain",
        `${service.name} answered ${endpoint.url} with a ${endpoint.chainHeader} header that is not a URL-encoded PEM certificate chain.`,
        { url: endpoint.url },
      );
    }
  }
  const entry: Entry = {
    fetchedAt: new Date().toISOString(),
    body: Buffer.from(body).toString("base64"),
    ...(issuerChain === undefined ? {} : { issuerChain }),
  };
  await store(service, options.cacheDir, file, new TextEncoder().encode(JSON.stringify(entry)));
  return { member: decoded.member, issuerChain };
}

/**
 * The cached answer if the entry is well-formed and still fresh: fetched less than a day ago
 * and, if its document names a nextUpdate that was still ahead when it was fetched, before
 * that. (A document already past its nextUpdate when served is the newest the service has:
 * asking again at once would only spend rate limit; core reports it as expired.)
 */
async function readFresh(file: string, endpoint: Endpoint): Promise<Answer | undefined> {
  let entry: Partial<Entry>;
  try {
    entry = JSON.parse(await readFile(file, "utf8")) as Partial<Entry>;
  } catch {
    return undefined;
  }
  if (typeof entry?.fetchedAt !== "string" || typeof entry.body !== "string") return undefined;
  const fetchedAt = Date.parse(entry.fetchedAt);
  const now = Date.now();
  if (!(fetchedAt <= now && now - fetchedAt < MAX_AGE_MS)) return undefined;
  const decoded = endpoint.decode(new Uint8Array(Buffer.from(entry.body, "base64")));
  if (decoded === undefined) return undefined;
  const { nextUpdate } = decoded;
  if (nextUpdate !== undefined && nextUpdate > fetchedAt && now >= nextUpdate) return undefined;
  if (endpoint.chainHeader === undefined) return { member: decoded.member, issuerChain: undefined };
  if (typeof entry.issuerChain !== "string" || !isCertChain(entry.issuerChain)) return undefined;
  return { member: decoded.member, issuerChain: entry.issuerChain };
}

/**
 * A TCB info or enclave identity body: JSON `{ <key>: {...}, signature: "…" }`. The member is
 * the text exactly as served, since the signature covers the bytes of the inner object.
 */
function signedJson(body: Uint8Array, key: "tcbInfo" | "enclaveIdentity"): Decoded | undefined {
  let text: string;
  let document: unknown;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(body);
    document = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof document !== "object" || document === null) return undefined;
  const { [key]: inner, signature } = document as Record<string, unknown>;
  if (typeof inner !== "object" || inner === null || typeof signature !== "string") {
    return undefined;
  }
  const { nextUpdate } = inner as { nextUpdate?: unknown };
  const due = typeof nextUpdate === "string" ? Date.parse(nextUpdate) : Number.NaN;
  return { member: text, nextUpdate: Number.isNaN(due) ? undefined : due };
}

/**
 * A CRL as PEM. PCS serves DER when asked for it; a PCCS serves the root CA CRL as DER or,
 * in older versions, as the DER's hex digits.
 */
function crl(body: Uint8Array): Decoded | undefined {
  const der = isDer(body) ? body : fromHex(new TextDecoder().decode(body).trim());
  if (der === undefined || !isDer(der)) return undefined;
  const lines =
    Buffer.from(der)
      .toString("base64")
      .match(/.{1,64}/g) ?? [];
  return {
    member: `-----BEGIN X509 CRL-----\n${lines.join("\n")}\n-----END X509 CRL-----\n`,
    nextUpdate: undefined,
  };
}

/** An issuer-chain header: PEM certificates, URL-encoded (RFC 3986) by the service. */
function decodeChain(header: string): string | undefined {
  let pem: string;
  try {
    pem = decodeURIComponent(header);
  } catch {
    return undefined;
  }
  return isCertChain(pem) ? pem : undefined;
}

/** One or more whole PEM certificates: core parses and verifies them. */
function isCertChain(pem: string): boolean {
  const begins = pem.match(/-----BEGIN CERTIFICATE-----/g)?.length ?? 0;
  const ends = pem.match(/-----END CERTIFICATE-----/g)?.length ?? 0;
  return begins > 0 && begins === ends;
}

function checkRequest(request: PcsRequest): PcsRequest {
  if (request.tee !== "sgx" && request.tee !== "tdx") {
    throw invalidRequest(`Intel PCS serves SGX and TDX collateral, not "${request.tee}".`);
  }
  if (!/^[0-9a-fA-F]{12}$/.test(request.fmspc)) {
    throw invalidRequest("The FMSPC must be 6 bytes written as 12 hex digits.");
  }
  if (request.ca !== "platform" && request.ca !== "processor") {
    throw invalidRequest(`The PCK CA must be "platform" or "processor", not "${request.ca}".`);
  }
  return { ...request, fmspc: request.fmspc.toLowerCase() };
}

function invalidRequest(message: string): CollateralFetchError {
  return new CollateralFetchError("pcs.invalid_request", message);
}
