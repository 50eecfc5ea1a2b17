/**
 * The registry host an image reference names: its first component when that
 * is a host (it has a dot or a port, or is localhost), as Docker's reference
 * grammar reads it; undefined for Docker Hub's short forms (busybox, library/busybox).
 */
export function registryHost(image: string): string | undefined {
  const slash = image.indexOf('/');
  if (slash < 0) return undefined;
  const first = image.slice(0, slash);
  return first.includes('.') || first.includes(':') || first === 'localhost' ? first : undefined;
}
