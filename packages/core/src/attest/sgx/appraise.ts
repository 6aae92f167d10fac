import { fail, pass, pinnedHex } from "../checks.js";
import { appraiseDcap } from "../dcap/appraise.js";
import type { Policy } from "../policy.js";
import type { Check, Claims } from "../types.js";
import type { SgxPlatformClaims } from "./claims.js";

/**
 * The SGX rules of a policy on top of the common ones (MRENCLAVE as `measurements`, the DEBUG
 * attribute, PPID as hardware ID) and the collateral rules SGX shares with TDX.
 */
export function appraiseSgx(claims: Claims, policy: Policy, now: Date): Check[] {
  const sgx = claims.platformClaims as unknown as SgxPlatformClaims;
  const rules = policy.sgx ?? {};
  const checks = appraiseDcap(sgx, policy, now);
  checks.push(...pinnedHex("sgx.policy.mr_signer", "MRSIGNER", sgx.mrSigner, rules.mrSigners));
  if (rules.isvProdIds !== undefined) {
    checks.push(
      rules.isvProdIds.includes(sgx.isvProdId)
        ? pass(
            "sgx.policy.isv_prod_id",
            `The enclave's ISV product ID ${sgx.isvProdId} is allowed.`,
          )
        : fail(
            "sgx.policy.isv_prod_id",
            `The enclave's ISV product ID ${sgx.isvProdId} is not one the policy allows (${rules.isvProdIds.join(", ")}).`,
          ),
    );
  }
  if (rules.minimumIsvSvn !== undefined) {
    checks.push(
      sgx.isvSvn >= rules.minimumIsvSvn
        ? pass(
            "sgx.policy.isv_svn",
            `The enclave's ISV SVN ${sgx.isvSvn} is at least ${rules.minimumIsvSvn}.`,
          )
        : fail(
            "sgx.policy.isv_svn",
            `The enclave's ISV SVN ${sgx.isvSvn} is below the minimum ${rules.minimumIsvSvn}.`,
          ),
    );
  }
  return checks;
}
