import type { Obj } from './resource-info.ts';

const encoded = new WeakMap<Obj, string>();

/**
 * A shared (not to be changed) object as JSON, encoded once for everyone who
 * sends it: the watches an event goes to and the lists the watch cache answers.
 */
export function sharedJson(obj: Obj): string {
  let json = encoded.get(obj);
  if (json === undefined) {
    json = JSON.stringify(obj);
    encoded.set(obj, json);
  }
  return json;
}
