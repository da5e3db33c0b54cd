import { createContext, useContext } from 'react';

export type Role = 'admin' | 'member';

/** GET /api/me. A browser session has `user`; a bot token has `bot` instead. */
export interface Me {
  user?: { id: string; email: string; firstName: string; lastName: string; role: Role };
  bot?: { id: string; name: string };
  tenant: { id: string; slug: string; name: string };
  session?: { method: 'password' | 'sso' };
}

export const MeContext = createContext<Me | null>(null);

/** The signed-in caller. Only valid inside the signed-in shell, which loads it first. */
export function useMe(): Me {
  const me = useContext(MeContext);
  if (!me) throw new Error('useMe() used outside the signed-in shell');
  return me;
}

export function displayName(person: { firstName?: string; lastName?: string; email: string }): string {
  return [person.firstName, person.lastName].filter(Boolean).join(' ').trim() || person.email;
}

export const roleLabel: Record<Role, string> = { admin: 'Admin', member: 'Member' };
