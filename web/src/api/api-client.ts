// Calls to the Client API from the browser: JSON in and out, the session cookie sent by the
// browser, errors as ApiError with the server's stable code. A 401 on any call but login tells
// the app that the session is gone.

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export type QueryValue = string | number | undefined | null;

export interface ApiClient {
  get<T>(path: string, query?: Record<string, QueryValue>): Promise<T>;
  post<T>(path: string, body?: unknown): Promise<T>;
  /** Optional so that test doubles written before they existed still fit; the real client has them. */
  patch?<T>(path: string, body: unknown): Promise<T>;
  put?<T>(path: string, body: unknown): Promise<T>;
  delete?(path: string): Promise<void>;
}

/** PATCH through the client; a test double without `patch` fails the call like a network error. */
export function patchVia<T>(api: ApiClient, path: string, body: unknown): Promise<T> {
  return api.patch
    ? api.patch<T>(path, body)
    : Promise.reject(new ApiError(0, 'NETWORK', 'PATCH is not available'));
}

/** PUT through the client; a test double without `put` fails the call like a network error. */
export function putVia<T>(api: ApiClient, path: string, body: unknown): Promise<T> {
  return api.put
    ? api.put<T>(path, body)
    : Promise.reject(new ApiError(0, 'NETWORK', 'PUT is not available'));
}

/** DELETE through the client; a test double without `delete` fails the call like a network error. */
export function deleteVia(api: ApiClient, path: string): Promise<void> {
  return api.delete
    ? api.delete(path)
    : Promise.reject(new ApiError(0, 'NETWORK', 'DELETE is not available'));
}

export interface ApiClientOptions {
  fetch?: typeof fetch;
  /** Called when an authenticated call answers 401 (logged out, expired, revoked). */
  onUnauthenticated?: (code: string) => void;
}

/** `/api/v1/jobs` + `{state: 'failed', limit: 50}` → `/api/v1/jobs?state=failed&limit=50`. */
export function withQuery(path: string, query: Record<string, QueryValue> = {}): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined || value === null || value === '') continue;
    params.set(key, String(value));
  }
  const text = params.toString();
  return text ? `${path}?${text}` : path;
}

const PUBLIC_PATHS = new Set([
  '/api/v1/auth/login',
  '/api/v1/setup',
  '/api/v1/auth/logout',
  '/api/v1/invites/accept',
]);

async function errorOf(res: Response): Promise<ApiError> {
  let code = `HTTP_${res.status}`;
  let message = `The server answered ${res.status} ${res.statusText}`.trim();
  try {
    const body = (await res.json()) as { error?: { code?: unknown; message?: unknown } };
    if (typeof body.error?.code === 'string') code = body.error.code;
    if (typeof body.error?.message === 'string') message = body.error.message;
  } catch {
    // Not JSON (a proxy's error page): keep the status line.
    message = `${message} (not a Command Center answer)`;
  }
  return new ApiError(res.status, code, message);
}

export function createApiClient(options: ApiClientOptions = {}): ApiClient {
  const doFetch = options.fetch ?? ((input, init) => fetch(input, init));

  async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
    let res: Response;
    try {
      res = await doFetch(path, {
        method,
        credentials: 'same-origin',
        headers:
          body === undefined
            ? { accept: 'application/json' }
            : {
                accept: 'application/json',
                'content-type': 'application/json',
              },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    } catch {
      throw new ApiError(
        0,
        'NETWORK',
        'The server cannot be reached. Check the network and try again.',
      );
    }
    if (!res.ok) {
      const err = await errorOf(res);
      if (res.status === 401 && !PUBLIC_PATHS.has(path.split('?')[0] ?? path)) {
        options.onUnauthenticated?.(err.code);
      }
      throw err;
    }
    if (res.status === 204) return undefined as T;
    return (await res.json()) as T;
  }

  return {
    get: (path, query) => call('GET', withQuery(path, query)),
    post: (path, body) => call('POST', path, body ?? {}),
    patch: (path, body) => call('PATCH', path, body),
    put: (path, body) => call('PUT', path, body),
    delete: (path) => call('DELETE', path),
  };
}
