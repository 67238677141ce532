import type { Authenticator, OutgoingRequest } from "./authenticator";

export interface BasicAuthConfig {
  type: "basic";
  username: string;
  password: string;
}

/** `Authorization: Basic base64(user:password)`. */
export class BasicAuthenticator implements Authenticator {
  constructor(private readonly config: BasicAuthConfig) {}

  apply(request: OutgoingRequest): OutgoingRequest {
    const encoded = Buffer.from(`${this.config.username}:${this.config.password}`).toString("base64");
    return { url: request.url, headers: { ...request.headers, authorization: `Basic ${encoded}` } };
  }
}
