/** What revoke and unrevoke share: a refusal kept with the nonce, and telling the workers after a change. */
import type { SecretSvcError } from '@secret-svc/protocol';
import type { OpDeps, RequestContext } from './context.js';
import { reject } from './write.js';

/** Records the refusal under the nonce like any write's (a resend of the same bytes gets it again), then throws it. */
export async function refuse(deps: OpDeps, ctx: RequestContext, error: SecretSvcError): Promise<never> {
  // A refusal touches no record: the key only names the plan.
  await deps.store.write(ctx.nonce, reject(ctx, '#revocations', error));
  throw error;
}

/** This worker re-reads the set now, and every worker is hinted to (also after a resend: harmless). */
export async function revocationsChanged(deps: OpDeps): Promise<void> {
  await deps.revocationsChanged?.();
}
