/** Who the entered key is (the `viewer` query): pages adapt to the role (a partner sees suppressed cells explained). */
export type Role = 'ADMIN' | 'PARTNER' | 'FRONTEND';

export interface Viewer {
  role: Role;
  name: string;
  userId: string | null;
}
