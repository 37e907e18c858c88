// @actions/core reaches @actions/http-client (and, through it, undici: 400 KB of the bundle) only
// for OIDC tokens (core.getIDToken), which budget-gate never asks for. The bundle gets this stub.
const unused = () => {
  throw new Error('budget-gate does not request OIDC tokens');
};
export class HttpClient {
  constructor() {
    unused();
  }
}
export class BearerCredentialHandler {
  constructor() {
    unused();
  }
}
