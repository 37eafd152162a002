// A local OpenID Provider for podauth's end-to-end tests.
//
// It wraps the certified `oidc-provider` package and shapes it like the
// Auth0 tenant that podauth talks to in production: public native clients,
// PKCE (S256), the device flow, an `audience` parameter that selects the
// resource server (so access tokens are RS256 JWTs for that audience), no
// consent page, refresh-token rotation, and a small test-only endpoint that
// counts token requests. See README.md beside this file for the page
// contract a browser robot relies on.
//
// Usage:
//   node provider.mjs --port PORT [--interval SECS]
//       [--access-token-ttl SECS] [--device-code-ttl SECS]
//
// Prints `READY http://127.0.0.1:PORT` on stdout once it listens, and exits
// when stdin reaches EOF or on SIGTERM/SIGINT.

import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';

// Everything but the READY line goes to stderr, whatever a library prints.
console.log = console.error;
console.info = console.error;

const USAGE = 'usage: node provider.mjs --port PORT [--interval SECS] '
  + '[--access-token-ttl SECS] [--device-code-ttl SECS]';

const CLIENT_IDS = ['podauth-test', 'podauth-other'];
const CALLBACK_PATH = '/api/auth/callback/auth0';
const REGISTERED_PORT = 29206;
// A native client may come back to any port on these hosts (RFC 8252 7.3);
// oidc-provider ignores the port but not the host, so each host is listed.
const LOOPBACK_HOSTS = ['localhost', '127.0.0.1', '[::1]'];

const PROOF_AUDIENCE = 'https://am.bitfount.com/api/access/modellerProofOfIdentity';
const HUB_AUDIENCE = 'https://hub.bitfount.com/api';
const OIDC_SCOPES = ['openid', 'profile', 'offline_access'];
const RESOURCE_SCOPES = {
  [PROOF_AUDIENCE]: 'execute:task',
  [HUB_AUDIENCE]: 'openid profile offline_access',
};

const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';
const MAX_FORM_BYTES = 16 * 1024;

function parseCli(argv) {
  const { values } = parseArgs({
    args: argv,
    options: {
      port: { type: 'string' },
      interval: { type: 'string', default: '1' },
      'access-token-ttl': { type: 'string', default: '3600' },
      'device-code-ttl': { type: 'string', default: '600' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help) {
    process.stderr.write(`${USAGE}\n`);
    process.exit(0);
  }

  const number = (name, min) => {
    const raw = values[name];
    const value = Number(raw);
    if (raw === undefined || !Number.isSafeInteger(value) || value < min) {
      throw new Error(`--${name} needs an integer >= ${min}, got ${raw}`);
    }
    return value;
  };

  return {
    port: number('port', 0),
    interval: number('interval', 1),
    accessTokenTtl: number('access-token-ttl', 1),
    deviceCodeTtl: number('device-code-ttl', 1),
  };
}

// Warnings that say nothing about a test run: the Node.js release check at
// import time (every flow works on this machine's Node 20) and the notice
// that state lives in memory, which is what a test provider wants.
const QUIET_WARNINGS = ['Unsupported runtime', 'in-memory adapter'];
const warn = console.warn;
console.warn = (...args) => {
  if (!QUIET_WARNINGS.some((text) => String(args[0]).includes(text))) warn(...args);
};

function signingKey() {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = privateKey.export({ format: 'jwk' });
  return { ...jwk, kid: randomBytes(8).toString('hex'), alg: 'RS256', use: 'sig' };
}

function clients() {
  const redirectUris = LOOPBACK_HOSTS.map(
    (host) => `http://${host}:${REGISTERED_PORT}${CALLBACK_PATH}`,
  );
  return CLIENT_IDS.map((clientId) => ({
    client_id: clientId,
    client_name: clientId,
    application_type: 'native',
    token_endpoint_auth_method: 'none',
    grant_types: ['authorization_code', 'refresh_token', DEVICE_GRANT],
    response_types: ['code'],
    redirect_uris: redirectUris,
  }));
}

// ---------------------------------------------------------------- pages --

const esc = (value) => String(value).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function page(kind, title, body) {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${esc(title)}</title>
<style>
body { font-family: sans-serif; max-width: 28em; margin: 2em auto; }
input, button { display: block; margin: 0.5em 0; font-size: 1em; }
.error { color: #b00020; }
</style>
</head>
<body data-page="${kind}">
<h1>${esc(title)}</h1>
${body}
</body>
</html>
`;
}

function loginPage(uid, clientId, error) {
  const base = `/interaction/${encodeURIComponent(uid)}`;
  const message = error ? `<p id="login-error" class="error">${esc(error)}</p>` : '';
  return page('login', 'Sign in', `<p>Signing in to <code id="client-id">${esc(clientId)}</code>.</p>
${message}
<form id="login-form" method="post" action="${base}/login" autocomplete="off">
<label>Login <input id="login" name="login" type="text" autofocus></label>
<label>Password <input id="password" name="password" type="password"></label>
<button id="login-submit" type="submit">Sign in</button>
</form>
<form id="cancel-form" method="post" action="${base}/abort">
<button id="login-cancel" type="submit">Cancel</button>
</form>`);
}

async function userCodeInputSource(ctx, form, _out, err) {
  let message = '<p>Enter the code shown on your device.</p>';
  if (err) {
    let text = 'The request could not be processed. Try again.';
    if (err.name === 'AbortedError') {
      text = 'The sign-in request was refused.';
    } else if (err.userCode || err.name === 'NoCodeError') {
      text = 'That code is not valid. Try again.';
    }
    message = `<p id="device-error" class="error" data-error="${esc(err.name)}">${text}</p>`;
  }
  ctx.type = 'html';
  ctx.body = page('device-input', 'Device sign-in', `${message}
${form}
<button id="device-continue" type="submit" form="op.deviceInputForm">Continue</button>`);
}

async function userCodeConfirmSource(ctx, form, client, _deviceInfo, userCode) {
  ctx.type = 'html';
  ctx.body = page('device-confirm', 'Confirm device', `<p>Client
<code id="client-id">${esc(client.clientId)}</code> asks to sign in with the code</p>
<p><code id="user-code">${esc(userCode)}</code></p>
${form}
<button id="device-confirm" type="submit" form="op.deviceConfirmForm">Confirm</button>
<button id="device-abort" type="submit" form="op.deviceConfirmForm" name="abort" value="yes">Abort</button>`);
}

async function successSource(ctx) {
  ctx.type = 'html';
  ctx.body = page('device-success', 'Signed in', `<p id="device-success">The device is signed in;
you can close this page.</p>`);
}

async function renderError(ctx, out) {
  ctx.type = 'html';
  const rows = Object.entries(out)
    .map(([key, value]) => `<dt>${esc(key)}</dt><dd class="${esc(key)}">${esc(value)}</dd>`)
    .join('\n');
  ctx.body = page('error', 'Error', `<dl id="error">\n${rows}\n</dl>`);
}

// ---------------------------------------------------------------- grants --

// Every scope asked for is granted at once: there is no consent page. The
// grant is kept in the session, so a later /auth of the same browser session
// finds everything granted and redirects straight back with a code.
async function grantEverything(ctx) {
  const { oidc } = ctx;
  const grantId = oidc.result?.consent?.grantId || oidc.session.grantIdFor(oidc.client.clientId);
  let grant = grantId ? await oidc.provider.Grant.find(grantId) : undefined;
  // A grant revoked (code or refresh token replayed) or of another account
  // is replaced by a fresh one.
  if (!grant || grant.accountId !== oidc.session.accountId) {
    grant = new oidc.provider.Grant({
      accountId: oidc.session.accountId,
      clientId: oidc.client.clientId,
    });
  }

  const oidcScopes = [...oidc.requestParamOIDCScopes];
  if (oidcScopes.length) grant.addOIDCScope(oidcScopes.join(' '));
  const requested = [...oidc.requestParamScopes];
  for (const [indicator, server] of Object.entries(oidc.resourceServers)) {
    const scopes = requested.filter((scope) => server.scopes.has(scope));
    if (scopes.length) grant.addResourceScope(indicator, scopes.join(' '));
  }
  if (oidc.claims) grant.addOIDCClaims(Object.keys(oidc.claims.id_token ?? {}));

  await grant.save();
  return grant;
}

function consentFreePolicy(interactionPolicy) {
  const policy = interactionPolicy.base();
  const consent = policy.get('consent');
  // oidc-provider asks native clients for consent on every request, and for
  // consent whenever `prompt=consent` is present; neither may show a page.
  consent.checks.remove('native_client_prompt');
  consent.checks.remove('consent_prompt');
  return policy;
}

// ------------------------------------------------------------ middleware --

async function readForm(req) {
  let size = 0;
  const chunks = [];
  for await (const chunk of req) {
    size += chunk.length;
    if (size > MAX_FORM_BYTES) throw new Error('form too large');
    chunks.push(chunk);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

function interactionRoutes(provider) {
  const route = /^\/interaction\/([^/]+)(?:\/(login|abort))?$/;

  return async (ctx, next) => {
    const match = route.exec(ctx.path);
    if (!match) return next();
    const [, uid, action] = match;
    ctx.set('cache-control', 'no-store');

    let details;
    try {
      details = await provider.interactionDetails(ctx.req, ctx.res);
    } catch (err) {
      ctx.status = 400;
      await renderError(ctx, { error: 'invalid_request', error_description: err.message });
      return undefined;
    }
    if (details.uid !== uid) {
      ctx.status = 400;
      await renderError(ctx, { error: 'invalid_request', error_description: 'interaction mismatch' });
      return undefined;
    }

    let result;
    if (action === 'abort' && ['GET', 'POST'].includes(ctx.method)) {
      result = { error: 'access_denied', error_description: 'End-User aborted interaction' };
    } else if (action === 'login' && ctx.method === 'POST') {
      const login = (await readForm(ctx.req)).get('login')?.trim();
      if (!login) {
        ctx.status = 400;
        ctx.type = 'html';
        ctx.body = loginPage(uid, details.params.client_id, 'Enter a login name.');
        return undefined;
      }
      result = { login: { accountId: login } };
    } else if (!action && ctx.method === 'GET' && details.prompt.name === 'login') {
      ctx.type = 'html';
      ctx.body = loginPage(uid, details.params.client_id);
      return undefined;
    } else if (!action && ctx.method === 'GET') {
      // Not reached with this policy; finish any other prompt silently.
      result = { consent: {} };
    } else {
      ctx.status = 405;
      return undefined;
    }

    const returnTo = await provider.interactionResult(ctx.req, ctx.res, result, {
      mergeWithLastSubmission: false,
    });
    ctx.status = 303;
    ctx.redirect(returnTo);
    return undefined;
  };
}

// Auth0 honours offline_access on /auth without `prompt=consent`;
// oidc-provider drops it unless consent is prompted (OIDC Core 11). Adding
// `prompt=consent` keeps the scope, and the policy above never shows a page
// for it.
function keepOfflineAccess() {
  return async (ctx, next) => {
    if (ctx.path === '/auth' && ctx.method === 'GET') {
      const query = new URLSearchParams(ctx.querystring);
      const scopes = (query.get('scope') ?? '').split(' ');
      const prompts = (query.get('prompt') ?? '').split(' ').filter(Boolean);
      if (scopes.includes('offline_access') && !prompts.includes('none')
          && !prompts.includes('consent')) {
        query.set('prompt', [...prompts, 'consent'].join(' '));
        ctx.querystring = query.toString();
      }
    }
    return next();
  };
}

// oidc-provider leaves `interval` out of the device authorization response.
function addDeviceInterval(interval) {
  return async (ctx, next) => {
    await next();
    if (ctx.path === '/device/auth' && ctx.status === 200
        && ctx.body && typeof ctx.body === 'object' && ctx.body.device_code) {
      ctx.body = { ...ctx.body, interval };
    }
  };
}

function testEndpoints(stats) {
  return async (ctx, next) => {
    if (ctx.path === '/__test/stats' && ctx.method === 'GET') {
      ctx.set('cache-control', 'no-store');
      ctx.body = stats;
      return undefined;
    }
    if (ctx.path === '/__test/reset' && ctx.method === 'POST') {
      stats.token_requests = {};
      stats.token_errors = {};
      ctx.body = stats;
      return undefined;
    }
    if (ctx.path !== '/token' || ctx.method !== 'POST') return next();

    try {
      await next();
    } finally {
      const grantType = ctx.oidc?.params?.grant_type ?? 'unknown';
      stats.token_requests[grantType] = (stats.token_requests[grantType] ?? 0) + 1;
      const error = ctx.body && typeof ctx.body === 'object' ? ctx.body.error : undefined;
      if (error) {
        const perGrant = stats.token_errors[grantType] ??= {};
        perGrant[error] = (perGrant[error] ?? 0) + 1;
      }
    }
    return undefined;
  };
}

// ------------------------------------------------------------------ main --

function configuration(options, { interactionPolicy, errors }) {
  const resourceServer = (indicator) => ({
    scope: RESOURCE_SCOPES[indicator],
    audience: indicator,
    accessTokenFormat: 'jwt',
    accessTokenTTL: options.accessTokenTtl,
    jwt: { sign: { alg: 'RS256' } },
  });

  return {
    clients: clients(),
    jwks: { keys: [signingKey()] },
    cookies: { keys: [randomBytes(32).toString('base64url')] },
    scopes: OIDC_SCOPES,
    claims: { openid: ['sub'], profile: ['name', 'nickname'] },
    responseTypes: ['code'],
    extraParams: ['audience'],
    pkce: { required: () => true },
    rotateRefreshToken: true,
    findAccount: (_ctx, sub) => ({
      accountId: sub,
      claims: async () => ({ sub, name: sub, nickname: sub }),
    }),
    interactions: {
      url: (_ctx, interaction) => `/interaction/${interaction.uid}`,
      policy: consentFreePolicy(interactionPolicy),
    },
    loadExistingGrant: grantEverything,
    renderError,
    ttl: {
      AccessToken: options.accessTokenTtl,
      AuthorizationCode: 60,
      DeviceCode: options.deviceCodeTtl,
      IdToken: 3600,
      RefreshToken: 14 * 24 * 3600,
      Interaction: 3600,
      Session: 14 * 24 * 3600,
      Grant: 14 * 24 * 3600,
    },
    features: {
      devInteractions: { enabled: false },
      deviceFlow: {
        enabled: true,
        userCodeInputSource,
        userCodeConfirmSource,
        successSource,
      },
      revocation: {
        enabled: true,
        // A client revokes its own tokens; others are ignored (RFC 7009 2.1).
        allowedPolicy: (_ctx, client, token) => token.clientId === client.clientId,
      },
      resourceIndicators: {
        enabled: true,
        // The `audience` parameter (Auth0's name) selects the resource.
        defaultResource: (ctx) => ctx.oidc.params?.audience || undefined,
        // A token request that omits the resource gets the one authorized.
        useGrantedResource: () => true,
        getResourceServerInfo: (_ctx, indicator) => {
          if (!(indicator in RESOURCE_SCOPES)) {
            throw new errors.InvalidTarget(`unknown audience ${indicator}`);
          }
          return resourceServer(indicator);
        },
      },
    },
  };
}

async function main() {
  let options;
  try {
    options = parseCli(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`${err.message}\n${USAGE}\n`);
    process.exit(2);
  }

  const { default: Provider, errors, interactionPolicy } = await import('oidc-provider');

  // Listen first so that `--port 0` can learn its port before the issuer,
  // which names the port, is fixed.
  let handler = (_req, res) => {
    res.statusCode = 503;
    res.end();
  };
  const server = createServer((req, res) => handler(req, res));
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, '127.0.0.1', resolve);
  });
  const { port } = server.address();
  const issuer = `http://127.0.0.1:${port}`;

  const provider = new Provider(issuer, configuration(options, { interactionPolicy, errors }));
  const stats = { token_requests: {}, token_errors: {} };
  provider.use(testEndpoints(stats));
  provider.use(addDeviceInterval(options.interval));
  provider.use(keepOfflineAccess());
  provider.use(interactionRoutes(provider));
  provider.on('server_error', (_ctx, err) => process.stderr.write(`server_error: ${err.stack}\n`));
  handler = provider.callback();

  const stop = () => {
    server.close();
    server.closeAllConnections();
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  process.stdin.on('end', stop);
  process.stdin.on('error', stop);
  process.stdin.resume();

  process.stdout.write(`READY ${issuer}\n`);
}

main().catch((err) => {
  process.stderr.write(`${err.stack}\n`);
  process.exit(1);
});
