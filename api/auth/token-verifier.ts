import { createHash } from 'node:crypto';
import { createDecoder, createVerifier } from 'fast-jwt';
import { NovaCronError } from '../../streams/errors/index.ts';

/** What a JWT must satisfy besides its signature (the JWT settings of api/config.ts). */
export interface TokenPolicy {
  /** NOVACRON_JWT_ISSUER: the `iss` every token must carry (`novacron token` signs it). */
  issuer: string;
  /** NOVACRON_JWT_AUDIENCE: the `aud` every token must carry. */
  audience: string;
  /** NOVACRON_JWT_MAX_TTL_SECONDS: longest lifetime accepted, as exp − iat and as exp − now. */
  maxTtlSeconds: number;
  /** NOVACRON_JWT_CLOCK_SKEW_SECONDS: tolerance on exp, nbf and iat for clocks that disagree. */
  clockSkewSeconds: number;
}

export const DEFAULT_JWT_ISSUER = 'novacron';
export const DEFAULT_JWT_AUDIENCE = 'novacron-api';

/**
 * The `kid` of a signing secret: 16 base64url characters of a SHA-256 of it,
 * so tokens name their key without revealing it (the secret has 256 bits: its
 * hash cannot be turned back into it).
 */
export const kidOf = (secret: string): string => createHash('sha256').update(`novacron-jwt-kid\0${secret}`).digest('base64url').slice(0, 16);

export interface VerifiedToken {
  payload: Record<string, unknown>;
  /** Epoch ms after which the token is refused (exp + the clock skew): no cache may keep it longer. */
  usableUntilMs: number;
}

export interface TokenVerifier {
  /** The verified payload, or NC_UNAUTHENTICATED saying what is wrong. */
  verify(token: string): VerifiedToken;
}

const unauthenticated = (message: string, cause?: unknown) =>
  new NovaCronError('NC_UNAUTHENTICATED', message, cause === undefined ? {} : { cause });

const MESSAGES: Record<string, string> = {
  FAST_JWT_EXPIRED: 'the token has expired; get a new one',
  FAST_JWT_INACTIVE: 'the token is not valid yet (nbf in the future)',
  FAST_JWT_MISSING_REQUIRED_CLAIM: 'the token must carry exp, iss and aud claims',
};

/**
 * HS256 verification by fast-jwt with a current and, during a rotation, a
 * previous secret, picked by the token's `kid` (a token without `kid` is
 * tried with the current secret). fast-jwt checks the signature, `exp`
 * (required), `nbf`, `iss` and `aud` within the clock skew; the lifetime cap is
 * checked here, as fast-jwt has no option for exp − iat.
 */
export function createTokenVerifier({ current, previous, policy, now = Date.now }: { current: string; previous?: string | undefined; policy: TokenPolicy; now?: () => number }): TokenVerifier {
  const verifierOf = (key: string) =>
    createVerifier({
      key,
      algorithms: ['HS256'],
      allowedIss: policy.issuer,
      allowedAud: policy.audience,
      requiredClaims: ['exp', 'iss', 'aud'],
      clockTolerance: policy.clockSkewSeconds * 1000,
    });
  const byKid = new Map<string, (token: string) => Record<string, unknown>>([[kidOf(current), verifierOf(current)]]);
  if (previous !== undefined && previous !== current) byKid.set(kidOf(previous), verifierOf(previous));
  const currentVerifier = verifierOf(current);
  const decodeHeader = createDecoder({ complete: true });

  return {
    verify(token) {
      let kid: unknown;
      try {
        kid = (decodeHeader(token) as { header: { kid?: unknown } }).header.kid;
      } catch (error) {
        throw unauthenticated('the token is invalid (malformed, or not signed with this server\'s secret)', error);
      }
      const verifier = kid === undefined ? currentVerifier : typeof kid === 'string' ? byKid.get(kid) : undefined;
      if (verifier === undefined) throw unauthenticated('the token is signed with a key this server does not know (kid); get a new one');
      let payload: Record<string, unknown>;
      try {
        payload = verifier(token);
      } catch (error) {
        const code = error instanceof Error ? Reflect.get(error, 'code') : undefined;
        const claimInvalid = code === 'FAST_JWT_INVALID_CLAIM_VALUE' ? `the token is not meant for this server (iss must be ${JSON.stringify(policy.issuer)}, aud ${JSON.stringify(policy.audience)})` : undefined;
        throw unauthenticated(claimInvalid ?? (typeof code === 'string' ? MESSAGES[code] : undefined) ?? 'the token is invalid (malformed, or not signed with this server\'s secret)', error);
      }
      const exp = Number(payload.exp);
      const nowSeconds = now() / 1000;
      const iat = typeof payload.iat === 'number' ? payload.iat : nowSeconds;
      if (exp - iat > policy.maxTtlSeconds || exp - nowSeconds > policy.maxTtlSeconds + policy.clockSkewSeconds) {
        throw unauthenticated(`the token lives longer than this server accepts (at most ${policy.maxTtlSeconds} s between iat and exp); get a shorter one`);
      }
      return { payload, usableUntilMs: (exp + policy.clockSkewSeconds) * 1000 };
    },
  };
}
