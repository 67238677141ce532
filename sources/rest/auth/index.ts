import type { AuthConfig } from "../../../model/source-config";
import type { Authenticator } from "./authenticator";
import { ApiKeyAuthenticator } from "./api-key";
import { BasicAuthenticator } from "./basic";
import { BearerAuthenticator } from "./bearer";
import { NoAuthenticator } from "./no-auth";

export type { Authenticator, OutgoingRequest } from "./authenticator";
export { redact, redactDeep, maskSecret, secretsOf } from "./redact";
export type { Secrets } from "./redact";

type AuthType = AuthConfig["type"];

/** The one registry: one line per auth type; the keys must match the schema's `type` union exactly. */
const AUTHENTICATORS: { [K in AuthType]: (config: Extract<AuthConfig, { type: K }>) => Authenticator } = {
  none: () => new NoAuthenticator(),
  api_key: (config) => new ApiKeyAuthenticator(config),
  bearer: (config) => new BearerAuthenticator(config),
  basic: (config) => new BasicAuthenticator(config),
};

export function createAuthenticator(config: AuthConfig): Authenticator {
  const factory = AUTHENTICATORS[config.type] as (c: AuthConfig) => Authenticator;
  return factory(config);
}
