/** Who is calling: resolved from the API key on every request. */
export const ROLES = ['admin', 'frontend', 'partner'] as const;
export type Role = (typeof ROLES)[number];

export interface Principal {
  /** api_keys.id, or null for the configured MERIDIAN_ADMIN_KEY. */
  readonly keyId: string | null;
  readonly role: Role;
  /** For frontend keys: the end user the key acts for; null = anonymous visitor. */
  readonly userId: string | null;
  readonly name: string;
}
