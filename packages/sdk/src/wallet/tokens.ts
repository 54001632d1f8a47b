/**
 * Where the wallet client keeps the refresh token. The access token lives only in memory. A PWA
 * may keep the refresh token out of localStorage (e.g. in IndexedDB behind a non-extractable
 * key, or not at all: signing in again per tab); a Node script may write it to a file.
 */
export interface TokenStore {
  getRefreshToken(): string | null | Promise<string | null>;
  /** null: forget it (signed out, or the session ended). */
  setRefreshToken(token: string | null): void | Promise<void>;
}

/** The default: the refresh token lives as long as the page or process. */
export class MemoryTokenStore implements TokenStore {
  #token: string | null;

  constructor(refreshToken: string | null = null) {
    this.#token = refreshToken;
  }

  getRefreshToken(): string | null {
    return this.#token;
  }

  setRefreshToken(token: string | null): void {
    this.#token = token;
  }

  /** Never print the token. */
  toJSON(): string {
    return '[MemoryTokenStore]';
  }
}
