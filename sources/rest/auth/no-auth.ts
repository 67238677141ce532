import type { Authenticator, OutgoingRequest } from "./authenticator";

/** No credentials. */
export class NoAuthenticator implements Authenticator {
  apply(request: OutgoingRequest): OutgoingRequest {
    return request;
  }
}
