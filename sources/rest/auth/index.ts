import type { AuthConfig } from "../../../model/source-config";
import type { Authenticator } from "./authenticator";
import { systemClock } from "../rate-limit";
import { ApiKeyAuthenticator } from "./api-key";
import { BasicAuthenticator } from "./basic";
import { BearerAuthenticator } from "./bearer";
import { NoAuthenticator } from "./no-auth";
import { OAuth2Authenticator, oauth2StoreKey, type OAuth2Deps } from "./oauth2";

export type { Authenticator, OutgoingRequest } from "./authenticator";
export { redact, redactDeep, maskSecret, secretsOf, variants } from "./redact";
export { oauth2StoreKey, resetOAuth2Tokens, tokensIssued, type OAuth2Deps } from "./oauth2";
export type { Secrets } from "./redact";

type AuthType = AuthConfig["type"];

/** The one registry: one line per auth type; the keys must match the schema's `type` union exactly. */
const AUTHENTICATORS: { [K in AuthType]: (config: Extract<AuthConfig, { type: K }>, deps: OAuth2Deps) => Authenticator } = {
  none: () => new NoAuthenticator(),
  api_key: (config) => new ApiKeyAuthenticator(config),
  bearer: (config) => new BearerAuthenticator(config),
  basic: (config) => new BasicAuthenticator(config),
  oauth2: (config, deps) => new OAuth2Authenticator(config, deps),
};

/** Token requests without a context: the system clock, the default retry policy, a store per config. */
const STANDALONE: OAuth2Deps = {
  storeKey: "", clock: systemClock, retry: { maxAttempts: 5, baseDelayMs: 200, maxDelayMs: 10_000, timeoutMs: 30_000 },
};

/**
 * The authenticator of an auth config. `deps` matter for OAuth2 only (token store, clock, retries); without
 * them a token store is keyed by the config's non-secret identity.
 */
export function createAuthenticator(config: AuthConfig, deps?: OAuth2Deps): Authenticator {
  const factory = AUTHENTICATORS[config.type] as (c: AuthConfig, d: OAuth2Deps) => Authenticator;
  const standalone = config.type === "oauth2" ? { ...STANDALONE, storeKey: oauth2StoreKey("", config) } : STANDALONE;
  return factory(config, deps ?? standalone);
}
