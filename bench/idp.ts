/**
 * The local OpenID provider for the SSO row, in its own process so that its
 * CPU time is never counted as the server's: the test suite's real
 * oidc-provider on loopback, signing the bench user in without a page.
 * Started by run.ts over IPC; tells it the issuer, exits when it disconnects.
 */
import { startProvider } from '../test/idp/provider.ts';

const { redirectUri, email, clientId, clientSecret } = JSON.parse(process.argv[2]!) as {
  redirectUri: string;
  email: string;
  clientId: string;
  clientSecret: string;
};

const idp = await startProvider({
  profile: 'okta',
  clients: [{ client_id: clientId, client_secret: clientSecret, redirect_uris: [redirectUri] }],
  users: [{ sub: 'bench-user', email, given_name: 'Bench', family_name: 'Admin' }],
});
idp.setNextLogin('bench-user');
process.send!({ issuer: idp.issuer, typedIssuer: idp.typedIssuer });
process.once('disconnect', () => void idp.close().then(() => process.exit(0)));
