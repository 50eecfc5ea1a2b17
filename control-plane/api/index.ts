// What the API server and the authorizers share, below both: the shape of a
// stored object and how a resource URL reads.
export type { Obj } from './object.ts';
export { parseResourcePath } from './request-info.ts';
export type { RequestInfo } from './request-info.ts';

/**
 * A mirror's feed of one resource: everything that exists (at the start and
 * again after a watch ended), then each change. Resolves once the first list
 * is handled, with the function that stops it.
 */
export type Subscribe = (handlers: {
  list(items: import('./object.ts').Obj[]): void | Promise<void>;
  event(e: { type: 'ADDED' | 'MODIFIED' | 'DELETED'; object: import('./object.ts').Obj }): void;
}) => Promise<() => void>;

/** Reads one object by namespace and name (404 as an ApiError). */
export interface ObjectReader {
  get(namespace: string | undefined, name: string): Promise<import('./object.ts').Obj>;
}
