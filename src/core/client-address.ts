/**
 * Client addresses as sessions see them: the network prefix a binding compares and the bucket invalid
 * tokens are counted per.
 */
import { isIPv4, isIPv6 } from 'node:net';

/**
 * The eight 16-bit groups of an IPv6 address (zone dropped, `::` expanded, a dotted IPv4 tail as two
 * groups), or `null` when `ip` is not one.
 */
function ipv6Groups(ip: string): number[] | null {
  const [address = ''] = ip.split('%', 1);
  if (!isIPv6(address)) return null;
  const toGroups = (part: string): number[] =>
    part === ''
      ? []
      : part.split(':').flatMap((group) => {
          if (!group.includes('.')) return [Number.parseInt(group, 16)];
          const [a = 0, b = 0, c = 0, d = 0] = group.split('.').map(Number);
          return [a * 256 + b, c * 256 + d];
        });
  const [head = '', tail] = address.split('::');
  const left = toGroups(head);
  const right = tail === undefined ? [] : toGroups(tail);
  return [...left, ...Array<number>(8 - left.length - right.length).fill(0), ...right];
}

/** An IPv4-mapped IPv6 address (`::ffff:a.b.c.d`, in either spelling) as plain IPv4; others unchanged. */
function unmapped(ip: string): string {
  const groups = ipv6Groups(ip);
  if (groups === null || groups[5] !== 0xffff || groups.slice(0, 5).some((g) => g !== 0)) return ip;
  const [hi = 0, lo = 0] = groups.slice(6);
  return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
}

/** The /24 (IPv4) or /64 (IPv6) network of an address; IPv4-mapped IPv6 counts as IPv4. */
export function ipPrefix(ip: string): string {
  const address = unmapped(ip);
  if (isIPv4(address)) return `${address.split('.').slice(0, 3).join('.')}.0/24`;
  const groups = ipv6Groups(address);
  if (groups === null) return address;
  return `${groups
    .slice(0, 4)
    .map((g) => g.toString(16))
    .join(':')}::/64`;
}

/**
 * What invalid tokens are counted per: an IPv4 address (IPv4-mapped IPv6 included), or the /64 of an
 * IPv6 address, since one subscriber usually holds a whole /64 and picks any address in it.
 */
export function clientBucket(ip: string): string {
  const address = unmapped(ip);
  return isIPv4(address) ? address : ipPrefix(address);
}
