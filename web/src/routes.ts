/** The pages that need a session. Everything in here shares the signed-in shell. */
export const signedInPages = {
  '/': { label: 'Overview', adminOnly: false },
  '/team': { label: 'Team', adminOnly: true },
  '/integrations/sso': { label: 'Single sign-on', adminOnly: true },
  '/bots': { label: 'Bots', adminOnly: true },
} as const;

export type SignedInPath = keyof typeof signedInPages;

export function isSignedInPath(path: string): path is SignedInPath {
  return Object.hasOwn(signedInPages, path);
}
