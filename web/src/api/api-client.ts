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

/**
 * An ApiError that keeps the whole JSON answer, for routes that explain a refusal beside the error
 * (a refused firmware upload carries `verdict` with every check).
 */
export class ApiAnswerError extends ApiError {
  constructor(
    status: number,
    code: string,
    message: string,
    readonly body: unknown,
  ) {
    super(status, code, message);
    this.name = 'ApiAnswerError';
  }
}

export type QueryValue = string | number | undefined | null;

/** Bytes of an upload sent so far; `total` is null when the browser cannot tell. */
export interface UploadProgress {
  loaded: number;
  total: number | null;
}

export interface ApiClient {
  get<T>(path: string, query?: Record<string, QueryValue>): Promise<T>;
  post<T>(path: string, body?: unknown): Promise<T>;
  /** Optional so that test doubles written before they existed still fit; the real client has them. */
  patch?<T>(path: string, body: unknown): Promise<T>;
  put?<T>(path: string, body: unknown): Promise<T>;
  delete?(path: string): Promise<void>;
  /**
   * POST a file as the raw body (`application/octet-stream`), reporting the bytes sent. A refusal
   * rejects with ApiAnswerError, whose `body` is the server's whole JSON answer.
   */
  upload?<T>(
    path: string,
    file: Blob,
    onProgress?: (progress: UploadProgress) => void,
    signal?: AbortSignal,
  ): Promise<T>;
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

/** Upload through the client; a test double without `upload` fails the call like a network error. */
export function uploadVia<T>(
  api: ApiClient,
  path: string,
  file: Blob,
  onProgress?: (progress: UploadProgress) => void,
  signal?: AbortSignal,
): Promise<T> {
  return api.upload
    ? api.upload<T>(path, file, onProgress, signal)
    : Promise.reject(new ApiError(0, 'NETWORK', 'Uploading is not available'));
}

export interface ApiClientOptions {
  fetch?: typeof fetch;
  /** Called when an authenticated call answers 401 (logged out, expired, revoked). */
  onUnauthenticated?: (code: string) => void;
  /** Makes the request of an upload (XMLHttpRequest: fetch cannot report upload progress). */
  createRequest?: () => XMLHttpRequest;
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

  const createRequest = options.createRequest ?? (() => new XMLHttpRequest());

  function upload<T>(
    path: string,
    file: Blob,
    onProgress?: (progress: UploadProgress) => void,
    signal?: AbortSignal,
  ): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      if (signal?.aborted) {
        reject(new ApiError(0, 'ABORTED', 'The upload was cancelled.'));
        return;
      }
      const xhr = createRequest();
      const onAbort = () => xhr.abort();
      const settle = () => signal?.removeEventListener('abort', onAbort);
      xhr.open('POST', path);
      xhr.setRequestHeader('accept', 'application/json');
      xhr.setRequestHeader('content-type', 'application/octet-stream');
      xhr.upload.addEventListener('progress', (e) => {
        onProgress?.({ loaded: e.loaded, total: e.lengthComputable ? e.total : null });
      });
      xhr.addEventListener('load', () => {
        settle();
        let body: unknown = undefined;
        let parsed = false;
        try {
          body = xhr.responseText === '' ? undefined : JSON.parse(xhr.responseText);
          parsed = true;
        } catch {
          // Not JSON (a proxy's error page): the status line has to do.
          parsed = false;
        }
        if (xhr.status >= 200 && xhr.status < 300) {
          resolve(body as T);
          return;
        }
        const error = (body as { error?: { code?: unknown; message?: unknown } } | undefined)
          ?.error;
        const code = typeof error?.code === 'string' ? error.code : `HTTP_${xhr.status}`;
        const line = `The server answered ${xhr.status} ${xhr.statusText}`.trim();
        const message =
          typeof error?.message === 'string'
            ? error.message
            : parsed
              ? line
              : `${line} (not a Command Center answer)`;
        if (xhr.status === 401) options.onUnauthenticated?.(code);
        reject(new ApiAnswerError(xhr.status, code, message, body));
      });
      xhr.addEventListener('error', () => {
        settle();
        reject(
          new ApiError(
            0,
            'NETWORK',
            'The upload was cut off: the server cannot be reached, or it refused the file before ' +
              'it was all sent (a file over the size limit).',
          ),
        );
      });
      xhr.addEventListener('abort', () => {
        settle();
        reject(new ApiError(0, 'ABORTED', 'The upload was cancelled.'));
      });
      signal?.addEventListener('abort', onAbort);
      xhr.send(file);
    });
  }

  return {
    upload,
    get: (path, query) => call('GET', withQuery(path, query)),
    post: (path, body) => call('POST', path, body ?? {}),
    patch: (path, body) => call('PATCH', path, body),
    put: (path, body) => call('PUT', path, body),
    delete: (path) => call('DELETE', path),
  };
}
