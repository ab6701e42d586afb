/** The console's only way to the server: the public GraphQL API, with the key the user entered. */
import { createClient, type Client } from 'graphql-ws';

const KEY = 'meridian.apiKey';

export class ApiError extends Error {
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
  }
}

export function apiKey(): string {
  return sessionStorage.getItem(KEY) ?? '';
}

export function setApiKey(key: string): void {
  sessionStorage.setItem(KEY, key.trim());
  void wsClient?.dispose();
  wsClient = null;
}

const endpoint = new URL('/graphql', location.href).toString();

interface GraphQLResponse<T> {
  data?: T | null;
  errors?: { message: string; extensions?: { code?: string } }[];
}

/**
 * Fired on window (a CustomEvent whose detail is the refused key) when the server refuses the key
 * a request was sent with (revoked, wrong): the header forgets it, if it is still the one in use.
 */
export const UNAUTHENTICATED_EVENT = 'meridian:unauthenticated';

/**
 * Runs an operation; any GraphQL or HTTP error becomes an ApiError with a readable message. An
 * aborted request (`signal`, see requestSlot) rejects with code ABORTED, which pages ignore.
 */
export async function gql<T>(query: string, variables: Record<string, unknown> = {}, signal?: AbortSignal): Promise<T> {
  const key = apiKey();
  if (!key) throw new ApiError('Enter an API key above to use the console.', 'UNAUTHENTICATED');
  const aborted = () => new ApiError('Replaced by a newer request.', 'ABORTED');
  let res: Response;
  try {
    res = await fetch(endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
      body: JSON.stringify({ query, variables }),
      signal,
    });
  } catch {
    if (signal?.aborted) throw aborted();
    throw new ApiError('The server cannot be reached.', 'NETWORK');
  }
  let body: GraphQLResponse<T>;
  try {
    body = (await res.json()) as GraphQLResponse<T>;
  } catch {
    if (signal?.aborted) throw aborted(); // aborted while the body was read
    throw new ApiError(`The server answered ${res.status} without a GraphQL response.`, 'BAD_RESPONSE');
  }
  const first = body.errors?.[0];
  if (first) {
    const code = first.extensions?.code ?? `HTTP_${res.status}`;
    if (code === 'UNAUTHENTICATED') window.dispatchEvent(new CustomEvent(UNAUTHENTICATED_EVENT, { detail: key }));
    const hint = code === 'UNAUTHENTICATED' ? ' Check the API key.' : code === 'FORBIDDEN' ? ' This key may not see it.' : '';
    throw new ApiError(`${first.message}${hint}`, code);
  }
  if (!body.data) throw new ApiError(`The server answered ${res.status} with no data.`, 'BAD_RESPONSE');
  return body.data;
}

let wsClient: Client | null = null;

/** Subscribes over graphql-ws; returns an unsubscribe function. */
export function subscribe<T>(query: string, variables: Record<string, unknown>, onData: (data: T) => void, onError: (e: ApiError) => void, onDone: () => void): () => void {
  if (!wsClient) {
    const url = new URL('/graphql', location.href);
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    wsClient = createClient({ url: url.toString(), connectionParams: { authorization: `Bearer ${apiKey()}` }, lazy: true, retryAttempts: 3 });
  }
  return wsClient.subscribe<T>(
    { query, variables },
    {
      next: (r) => {
        if (r.errors?.length) onError(new ApiError(r.errors[0]!.message, errorCode(r.errors[0]!.extensions?.code)));
        else if (r.data) onData(r.data);
      },
      error: (e) => onError(new ApiError(e instanceof Error ? e.message : 'The live connection failed.', 'WS')),
      complete: onDone,
    },
  );
}

/** A GraphQL error's extensions.code, or ERROR when it has none. */
function errorCode(code: unknown): string {
  return typeof code === 'string' ? code : 'ERROR';
}

/**
 * One request at a time for a view: starting one aborts the one before (its answer is dropped, so
 * a slow old answer never overwrites a newer one, and a double click costs one request).
 */
export function requestSlot(): { next: () => AbortSignal; cancel: () => void } {
  let current: AbortController | null = null;
  return {
    next() {
      current?.abort();
      current = new AbortController();
      return current.signal;
    },
    cancel() {
      current?.abort();
      current = null;
    },
  };
}

export function isAborted(err: unknown): boolean {
  return err instanceof ApiError && err.code === 'ABORTED';
}
