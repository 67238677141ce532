/** A request about to be sent: the authenticator adds credentials to a copy. */
export interface OutgoingRequest {
  url: URL;
  headers: Record<string, string>;
}

/** Adds credentials to a request. Implementations never expose the secret except through `apply`. */
export interface Authenticator {
  apply(request: OutgoingRequest): OutgoingRequest;
}
