/** Test issuers and callers: real Ed25519 keys and credentials. */
import { generateJwk, issueCredential, privateKeyObject, type PrivateJwk } from '@secret-svc/protocol';

export interface TestCaller {
  slug: string;
  credential: string;
  key: PrivateJwk;
}

export class TestIssuer {
  readonly jwk = generateJwk();
  private readonly keyObject = privateKeyObject(this.jwk);
  get publicKey(): string {
    return this.jwk.x;
  }
  caller(slug: string, opts: { admin?: boolean; ttlSeconds?: number; now?: number } = {}): TestCaller {
    const key = generateJwk();
    const credential = issueCredential({
      issuerKey: this.keyObject, issuer: this.jwk.x, slug, subjectKey: key.x, admin: opts.admin,
      ttlSeconds: opts.ttlSeconds, now: opts.now,
    });
    return { slug, credential, key };
  }
}
