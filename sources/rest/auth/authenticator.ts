/** A request about to be sent: the authenticator adds credentials to a copy. */
export interface OutgoingRequest {
  url: URL;
  headers: Record<string, string>;
}

/** Adds credentials to a request. Implementations never expose the secret except through `apply`. */
export interface Authenticator {
  apply(request: OutgoingRequest): OutgoingRequest;
  /**
   * Credentials obtained at run time (OAuth2): awaited before every request so `apply` has a valid one.
   * Resolves to a reason (secrets not included) when none could be obtained; never rejects.
   */
  prepare?(): Promise<string | undefined>;
  /**
   * The server answered 401 to `sent` (as `apply` built it): forget that credential if it is still the
   * current one. True when a new one may be obtained, i.e. one retry of the request is worth it.
   */
  invalidate?(sent: OutgoingRequest): boolean;
  /** Credentials obtained at run time (access tokens), to mask wherever text leaves the source. */
  liveSecrets?(): string[];
}
