import type { Authenticator, OutgoingRequest } from "./authenticator";

export interface BearerAuthConfig {
  type: "bearer";
  token: string;
}

/** `Authorization: Bearer <token>`. */
export class BearerAuthenticator implements Authenticator {
  constructor(private readonly config: BearerAuthConfig) {}

  apply(request: OutgoingRequest): OutgoingRequest {
    return { url: request.url, headers: { ...request.headers, authorization: `Bearer ${this.config.token}` } };
  }
}
