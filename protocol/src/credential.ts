/** Credentials (docs/protocol.md §2): compact JWS, EdDSA, binding a caller key (cnf) to a slug (sub). */
import type { KeyObject } from 'node:crypto';
import { z } from 'zod';
import { fromBase64url, toBase64url } from './base64url.js';
import { AmbiguousBodyError, decodeJson } from './codec.js';
import { SLUG_RE } from './constants.js';
import { UnauthenticatedError } from './errors.js';
import { isPublicKeyText, signBytes, verifyBytes } from './keys.js';

const headerSchema = z.looseObject({
  alg: z.literal('EdDSA'),
  typ: z.literal('JWT').optional(),
  crit: z.never().optional(), // no extension we understand, so any critical one is refused
});

/** Seconds whose milliseconds a Date can hold (±8.64e15 ms): beyond it every clock check breaks. */
const MAX_NUMERIC_DATE = 8.64e12;
const numericDate = z.number().finite().min(-MAX_NUMERIC_DATE).max(MAX_NUMERIC_DATE);

export const JTI_MAX_LENGTH = 128;

export const credentialClaimsSchema = z.looseObject({
  iss: z.string().refine(isPublicKeyText, 'iss must be an Ed25519 public key'),
  sub: z.string().regex(SLUG_RE, 'sub must be a valid slug'),
  cnf: z.object({
    jwk: z.looseObject({
      kty: z.literal('OKP'),
      crv: z.literal('Ed25519'),
      x: z.string().refine(isPublicKeyText, 'cnf key must be a canonical Ed25519 public key not of small order'),
    }),
  }),
  admin: z.boolean().optional(),
  iat: numericDate.optional(),
  exp: numericDate.optional(),
  nbf: numericDate.optional(),
  jti: z.string().min(1).max(JTI_MAX_LENGTH).optional(),
});

/** The claims this protocol reads; any other claim is dropped. */
export interface CredentialClaims {
  iss: string;
  sub: string;
  cnf: { jwk: { kty: 'OKP'; crv: 'Ed25519'; x: string } };
  admin?: boolean;
  iat?: number;
  exp?: number;
  nbf?: number;
  jti?: string;
}

export interface ParsedCredential {
  claims: CredentialClaims;
  signingInput: Buffer;
  signature: Buffer;
}

/** A credential that cannot be used: malformed, or (see the worker) untrusted; 401 on the wire. */
export class CredentialError extends UnauthenticatedError {}

/** Splits and checks a credential's structure and returns it (unverified); throws CredentialError saying why not. */
export function parseCredential(text: string): ParsedCredential {
  const parts = text.split('.');
  if (parts.length !== 3) throw new CredentialError('credential is not a compact JWS');
  const [h, p, s] = parts as [string, string, string];
  const header = decodeJsonPart(h);
  if (typeof header === 'string') throw new CredentialError(`credential header ${header}`);
  if (!headerSchema.safeParse(header).success) throw new CredentialError('credential header must be {"alg":"EdDSA","typ":"JWT"}');
  const raw = decodeJsonPart(p);
  if (typeof raw === 'string') throw new CredentialError(`credential claims ${raw}`);
  const checked = credentialClaimsSchema.safeParse(raw);
  if (!checked.success) throw new CredentialError(`credential claims invalid: ${checked.error.issues[0]?.message ?? 'schema'}`);
  const signature = fromBase64url(s);
  if (signature?.length !== 64) throw new CredentialError('credential signature is malformed');
  return { claims: knownClaims(checked.data), signingInput: Buffer.from(`${h}.${p}`, 'ascii'), signature };
}

/** parseCredential for callers that only want to know: the credential, or undefined when it is unusable. */
export function tryParseCredential(text: string): ParsedCredential | undefined {
  try {
    return parseCredential(text);
  } catch (err) {
    if (err instanceof CredentialError) return undefined;
    throw err;
  }
}

/** A fresh object holding only the claims read, each taken only if present (never inherited). */
function knownClaims(c: z.infer<typeof credentialClaimsSchema>): CredentialClaims {
  return {
    iss: c.iss,
    sub: c.sub,
    cnf: { jwk: { kty: 'OKP', crv: 'Ed25519', x: c.cnf.jwk.x } },
    ...(Object.hasOwn(c, 'admin') && c.admin !== undefined ? { admin: c.admin } : {}),
    ...(c.iat !== undefined ? { iat: c.iat } : {}),
    ...(c.exp !== undefined ? { exp: c.exp } : {}),
    ...(c.nbf !== undefined ? { nbf: c.nbf } : {}),
    ...(c.jti !== undefined ? { jti: c.jti } : {}),
  };
}

export function verifyCredentialSignature(parsed: ParsedCredential, issuerKey: KeyObject): boolean {
  return verifyBytes(issuerKey, parsed.signingInput, parsed.signature);
}

/** A JWS part's JSON value, or why it has none (the caller prefixes which part). */
function decodeJsonPart(part: string): unknown {
  const bytes = fromBase64url(part);
  if (!bytes) return 'is not canonical base64url';
  try {
    const value = decodeJson(bytes);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? value : 'is not a JSON object';
  } catch (err) {
    return err instanceof AmbiguousBodyError ? `refused: ${err.message}` : 'is not valid JSON';
  }
}

export interface IssueOptions {
  issuerKey: KeyObject;
  issuer: string;
  slug: string;
  subjectKey: string;
  admin?: boolean;
  ttlSeconds?: number;
  jti?: string;
  now?: number;
}

/** Signs a credential; the issuer side (CLI `issue`, tests). */
export function issueCredential(o: IssueOptions): string {
  const iat = Math.floor((o.now ?? Date.now()) / 1000);
  const claims: CredentialClaims = {
    iss: o.issuer,
    sub: o.slug,
    cnf: { jwk: { kty: 'OKP', crv: 'Ed25519', x: o.subjectKey } },
    iat,
    ...(o.admin ? { admin: true } : {}),
    ...(o.ttlSeconds !== undefined ? { exp: iat + o.ttlSeconds } : {}),
    ...(o.jti !== undefined ? { jti: o.jti } : {}),
  };
  const checked = credentialClaimsSchema.safeParse(claims);
  if (!checked.success) throw new Error(`cannot issue credential: ${checked.error.issues[0]?.message}`);
  const enc = (v: unknown) => toBase64url(Buffer.from(JSON.stringify(v), 'utf8'));
  const input = `${enc({ alg: 'EdDSA', typ: 'JWT' })}.${enc(claims)}`;
  return `${input}.${toBase64url(signBytes(o.issuerKey, Buffer.from(input, 'ascii')))}`;
}
