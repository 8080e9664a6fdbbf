// A real OpenID Connect provider on loopback for Tollgate's single sign-on tests (tests/tollgate/test_sso.py).
//
// One confidential client, authorization-code flow with PKCE, RS256 ID tokens from a key made at start. The sign-in
// page asks for a user name and the groups to send: the groups claim carries exactly what was typed, so a test can
// sign the same person in twice with different groups. A user name starting with "unverified." has an unverified
// e-mail address. Configured by the environment:
//   CLIENT_ID, CLIENT_SECRET, REDIRECT_URIS, POST_LOGOUT_REDIRECT_URIS (comma-separated); PORT is optional.
// Without PORT it listens on a port the system picks, so no other process can take the port between its choice and
// the listen (tests/oidc.py). Prints "ready <issuer>" on stdout once it listens and the provider is made.
import { generateKeyPairSync } from 'node:crypto';
import http from 'node:http';

import Provider from 'oidc-provider';

const env = (name) => {
  const value = process.env[name];
  if (!value) {
    console.error(`${name} is not set`);
    process.exit(2);
  }
  return value;
};

// Read at start, so a missing setting stops it before it listens.
const client = {
  client_id: env('CLIENT_ID'),
  client_secret: env('CLIENT_SECRET'),
  redirect_uris: env('REDIRECT_URIS').split(','),
  post_logout_redirect_uris: env('POST_LOGOUT_REDIRECT_URIS').split(','),
};
const groupsOf = new Map(); // account id -> the groups typed at its last sign-in

const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const signingKey = { ...privateKey.export({ format: 'jwk' }), kid: 'test-key', use: 'sig', alg: 'RS256' };

const escape = (text) => String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

const makeProvider = (issuer) => new Provider(issuer, {
  clients: [{
    ...client,
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_post',
  }],
  jwks: { keys: [signingKey] },
  cookies: { keys: ['tollgate-test-provider-cookie-key'] },
  scopes: ['openid', 'email', 'profile', 'groups'],
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['name', 'given_name', 'family_name'],
    groups: ['groups'],
  },
  pkce: { required: () => true },
  features: {
    devInteractions: { enabled: false },
    rpInitiatedLogout: {
      enabled: true,
      logoutSource: async (ctx, form) => {
        ctx.body = `<!DOCTYPE html><html><head><title>Sign out</title></head><body>${form}
          <button type="submit" form="op.logoutForm" value="yes" name="logout">Yes, sign me out</button></body></html>`;
      },
    },
  },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  // Tollgate is the company's own application: no consent screen, every requested scope is granted.
  loadExistingGrant: async (ctx) => {
    const grantId = ctx.oidc.result?.consent?.grantId || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
    if (grantId) return ctx.oidc.provider.Grant.find(grantId);
    const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId });
    grant.addOIDCScope('openid email profile groups');
    await grant.save();
    return grant;
  },
  findAccount: async (ctx, id) => ({
    accountId: id,
    claims: async () => {
      const [given, ...family] = id.split('.');
      const title = (part) => part.charAt(0).toUpperCase() + part.slice(1);
      return {
        sub: id,
        email: `${id}@example.com`,
        email_verified: !id.startsWith('unverified.'), // a way for the tests to get an unverified address
        given_name: title(given),
        family_name: family.map(title).join(' '),
        name: [given, ...family].map(title).join(' '),
        groups: groupsOf.get(id) ?? [],
      };
    },
  }),
});

const readForm = (req) => new Promise((resolve, reject) => {
  let body = '';
  req.on('data', (chunk) => { body += chunk; });
  req.on('end', () => resolve(new URLSearchParams(body)));
  req.on('error', reject);
});

const signInPage = (uid) => `<!DOCTYPE html><html><head><title>Test identity provider</title></head><body>
  <h1>Test identity provider</h1>
  <form method="post" action="/interaction/${escape(uid)}">
    <label for="login">User name</label> <input id="login" name="login" required>
    <label for="groups">Groups (comma-separated)</label> <input id="groups" name="groups">
    <button type="submit">Sign in</button>
  </form></body></html>`;

const handleInteraction = async (req, res) => {
  const details = await provider.interactionDetails(req, res);
  if (req.method === 'GET') {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(signInPage(details.uid));
    return;
  }
  const form = await readForm(req);
  const login = (form.get('login') || '').trim();
  if (!login) {
    res.writeHead(400, { 'content-type': 'text/plain' });
    res.end('a user name is required');
    return;
  }
  groupsOf.set(login, (form.get('groups') || '').split(',').map((g) => g.trim()).filter(Boolean));
  await provider.interactionFinished(req, res, { login: { accountId: login } }, { mergeWithLastSubmission: false });
};

let provider; // made once the port, and so the issuer, is known
let callback;
const server = http.createServer((req, res) => {
  if (req.url.startsWith('/interaction/')) {
    handleInteraction(req, res).catch((error) => {
      res.writeHead(400, { 'content-type': 'text/plain' });
      res.end(String(error));
    });
    return;
  }
  callback(req, res);
});

server.listen(Number(process.env.PORT || 0), '127.0.0.1', () => {
  const issuer = `http://127.0.0.1:${server.address().port}`;
  provider = makeProvider(issuer);
  callback = provider.callback();
  console.log(`ready ${issuer}`);
});
