// Container image references as the Docker reference grammar defines them:
// [host[:port]/]path[:tag][@digest], lower-case path components.

const COMPONENT = '[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*';
const DOMAIN_PART = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const DOMAIN = `(?:${DOMAIN_PART}(?:\\.${DOMAIN_PART})*|\\[[0-9a-fA-F:]+\\])(?::[0-9]+)?`;
const TAG = '[\\w][\\w.-]{0,127}';
const DIGEST = '[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}';
const REFERENCE = new RegExp(`^(?:${DOMAIN}/)?${COMPONENT}(?:/${COMPONENT})*(?::${TAG})?(?:@${DIGEST})?$`);

/** Why `image` is not a valid reference, or null when it is. */
export function imageReferenceError(image: string): string | null {
  if (image !== image.trim()) return 'must not have leading or trailing whitespace';
  if (image.length > 255) return 'repository name must not be more than 255 characters';
  if (!REFERENCE.test(image)) return 'invalid reference format';
  return null;
}

/** The tag of a reference, '' when it has none (digests are not tags). */
export function imageTag(image: string): string {
  const noDigest = image.split('@')[0] as string;
  const lastSlash = noDigest.lastIndexOf('/');
  const colon = noDigest.indexOf(':', lastSlash + 1);
  return colon >= 0 ? noDigest.slice(colon + 1) : '';
}
