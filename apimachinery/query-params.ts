import { errors } from './status.ts';

// Query parameters read as kube-apiserver's parameter codec reads them, on
// the API server and the kubelet API alike.

/** A boolean parameter: absent, "0" and "false" (any case) are false, anything else is true (the Python client sends "True"). */
export function queryBool(v: string | null): boolean {
  return v !== null && v !== '0' && v.toLowerCase() !== 'false';
}

/** An integer parameter, undefined when absent or empty; anything else that is no integer is refused with 400. */
export function queryInt(q: URLSearchParams, name: string): number | undefined {
  const v = q.get(name)?.trim();
  if (v === undefined || v === '') return undefined;
  if (!/^[-+]?\d+$/.test(v)) throw errors.badRequest(`strconv.ParseInt: parsing ${JSON.stringify(v)}: invalid syntax`);
  return Number(v);
}
