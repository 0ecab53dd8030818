// The API calls benchmarks need to set a fresh server up: first admin, session, API token.

import { Agent, fetch } from 'undici';

export async function postJson(
  dispatcher: Agent,
  url: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; json: unknown; setCookie: string | null }> {
  const res = await fetch(url, {
    method: 'POST',
    dispatcher,
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  return { status: res.status, json: await res.json(), setCookie: res.headers.get('set-cookie') };
}

/** Creates the first admin through the setup link and returns an API token for the stream. */
export async function adminToken(base: string, setupUrl: string): Promise<string> {
  const dispatcher = new Agent({ connect: { rejectUnauthorized: false } });
  const setupToken = new URL(setupUrl).hash.replace('#token=', '');
  const password = 'bench-password-long-enough';
  const setup = await postJson(dispatcher, `${base}/api/v1/setup`, {
    token: setupToken,
    username: 'bench',
    password,
  });
  if (setup.status >= 300) throw new Error(`setup failed: ${JSON.stringify(setup.json)}`);
  const login = await postJson(dispatcher, `${base}/api/v1/auth/login`, {
    username: 'bench',
    password,
  });
  const cookie = login.setCookie?.split(';')[0] ?? '';
  const token = await postJson(
    dispatcher,
    `${base}/api/v1/tokens`,
    { name: 'bench' },
    { cookie, origin: base },
  );
  const value = (token.json as { token?: string }).token;
  if (!value) throw new Error(`token creation failed: ${JSON.stringify(token.json)}`);
  await dispatcher.close();
  return value;
}
