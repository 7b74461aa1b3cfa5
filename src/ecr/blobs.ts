// Placeholder with the agreed signature (issue 22, W2 replaces this file at merge).
export const fetchBlob: (
  url: string,
  signal: AbortSignal
) => Promise<AsyncIterable<Uint8Array>> = () => Promise.reject(new Error('not built yet'))
