/**
 * Kubernetes' variable references in env values, command and args:
 * `$(NAME)` becomes NAME's value when NAME is defined and stays as written
 * when it is not; `$$` is a literal `$`; any other `$` is kept.
 */
export function expandReferences(input: string, lookup: (name: string) => string | undefined): string {
  let out = '';
  for (let i = 0; i < input.length; i++) {
    const c = input[i] as string;
    const next = input[i + 1];
    if (c !== '$' || next === undefined) {
      out += c;
    } else if (next === '$') {
      out += '$';
      i++;
    } else if (next === '(') {
      const close = input.indexOf(')', i + 2);
      // no closing parenthesis: the rest is text
      if (close < 0) return out + input.slice(i);
      const value = lookup(input.slice(i + 2, close));
      out += value ?? input.slice(i, close + 1);
      i = close;
    } else {
      out += c;
    }
  }
  return out;
}
