import type { Authenticator, OutgoingRequest } from "./authenticator";

export interface ApiKeyAuthConfig {
  type: "api_key";
  /** `header` (e.g. `X-API-Key`) or `query` (e.g. `api_key`). */
  location: "header" | "query";
  name: string;
  value: string;
}

/** API key in a header or a query parameter. */
export class ApiKeyAuthenticator implements Authenticator {
  constructor(private readonly config: ApiKeyAuthConfig) {}

  apply(request: OutgoingRequest): OutgoingRequest {
    if (this.config.location === "header") {
      return { url: request.url, headers: { ...request.headers, [this.config.name]: this.config.value } };
    }
    const url = new URL(request.url.href);
    url.searchParams.set(this.config.name, this.config.value);
    return { url: url, headers: request.headers };
  }
}
