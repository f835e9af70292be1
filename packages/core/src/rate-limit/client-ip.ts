import ipaddr from 'ipaddr.js';

// Four decimal octets 0-255 without leading zeros, optionally after `::ffff:`.
const OCTET = '(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)';
const CANONICAL_IPV4 = new RegExp(`^(?:::ffff:)?(${OCTET}\\.${OCTET}\\.${OCTET}\\.${OCTET})$`);

/**
 * The rate-limit key of a client address. IPv4 stays as is; an IPv4-mapped
 * IPv6 address (`::ffff:203.0.113.7`) folds to its IPv4 form, so a dual-stack
 * server counts one client once; any other IPv6 address is reduced to its
 * `/subnet` network (`2001:db8:ab:cd00::/56`), because one subscriber
 * usually holds a whole prefix (a /64 at least, often a /56 or /48) and
 * could otherwise rotate through addresses to get a fresh limit each time.
 * Zone ids (`%eth0`) are dropped. `subnet: false` or 128 keeps full addresses.
 * Anything that does not parse as an IP is returned unchanged.
 *
 * @example
 * clientAddressKey('::ffff:10.0.0.1');            // '10.0.0.1'
 * clientAddressKey('2001:db8:1:2:3:4:5:6', 56);   // '2001:db8:1::/56'
 */
export function clientAddressKey(address: string, subnet: number | false = 56): string {
  // Fast path for the usual case, an IPv4 address in canonical dotted-decimal
  // form (what Node reports), plain or IPv4-mapped: already its own key.
  const v4 = CANONICAL_IPV4.exec(address);
  if (v4) return v4[1]!;
  let parsed: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    parsed = ipaddr.parse(address);
  } catch {
    return address;
  }
  if (parsed.kind() === 'ipv4') return parsed.toString();
  const v6 = parsed as ipaddr.IPv6;
  if (v6.isIPv4MappedAddress()) return v6.toIPv4Address().toString();
  const bytes = v6.toByteArray();
  if (subnet === false || subnet >= 128) return ipaddr.fromByteArray(bytes).toString();
  for (let bit = subnet; bit < 128; bit++) bytes[bit >> 3]! &= ~(0x80 >> (bit & 7)) & 0xff;
  return `${ipaddr.fromByteArray(bytes).toString()}/${subnet}`;
}
