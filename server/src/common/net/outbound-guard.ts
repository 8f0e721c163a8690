import { lookup as dnsLookup, LookupAddress, LookupOptions } from 'node:dns';
import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';
import { AppError } from '../errors/app-error';

/** An allowlist entry: a CIDR (or single address), optionally limited to one port. */
interface AllowEntry {
  range: [ipaddr.IPv4 | ipaddr.IPv6, number];
  port?: number;
}

/**
 * Parses OUTBOUND_ALLOWLIST: comma-separated `10.0.0.0/8`, `127.0.0.1:4010`, `[::1]:4010`, `192.168.1.5`.
 * Throws naming the bad entry.
 */
export function parseAllowlist(value: string): AllowEntry[] {
  return value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((entry) => {
      // [v6]:port | v6[/bits] | v4[/bits][:port]
      const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(entry);
      const [address, port] = bracketed ? [bracketed[1], bracketed[2]] : entry.split(':').length > 2 ? [entry, undefined] : entry.split(':');
      try {
        const range: [ipaddr.IPv4 | ipaddr.IPv6, number] = address.includes('/')
          ? ipaddr.parseCIDR(address)
          : [ipaddr.parse(address), ipaddr.parse(address).kind() === 'ipv4' ? 32 : 128];
        return { range, port: port ? Number(port) : undefined };
      } catch {
        throw new Error(`OUTBOUND_ALLOWLIST: "${entry}" is not an address or CIDR`);
      }
    });
}

function normalise(address: string): ipaddr.IPv4 | ipaddr.IPv6 {
  const parsed = ipaddr.parse(address);
  return parsed.kind() === 'ipv6' && (parsed as ipaddr.IPv6).isIPv4MappedAddress() ? (parsed as ipaddr.IPv6).toIPv4Address() : parsed;
}

/** Only globally routable unicast addresses are public; loopback, private, link-local (cloud metadata), CGNAT… are not. */
export function isPublicAddress(address: string): boolean {
  return normalise(address).range() === 'unicast';
}

export class OutboundGuard {
  constructor(private readonly allow: AllowEntry[]) {}

  private allowed(address: string, port: number): boolean {
    if (isPublicAddress(address)) return true;
    const ip = normalise(address);
    return this.allow.some((entry) => ip.kind() === entry.range[0].kind() && ip.match(entry.range) && (entry.port === undefined || entry.port === port));
  }

  private refusal(host: string, address: string): AppError {
    return new AppError('forbidden', `Refusing to connect to ${host} (${address}): private, loopback and link-local destinations are blocked`, {
      host,
      address,
    });
  }

  /**
   * Whether a plain-http URL may be configured: only for an IP-literal host the allow-list names
   * (a local test provider, a private service the operator opened). Public hosts need https.
   */
  permitsPlainHttp(value: string): boolean {
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      return false;
    }
    if (url.protocol !== 'http:') return false;
    const host = url.hostname.replace(/^\[|\]$/g, '');
    return isIP(host) !== 0 && !isPublicAddress(host) && this.allowed(host, Number(url.port || 80));
  }

  /** Checks an IP-literal host up front (names are checked at connect time by `lookup`). */
  assertUrl(url: URL): void {
    if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new AppError('forbidden', `Refusing ${url.protocol} URLs: only http and https`);
    const host = url.hostname.replace(/^\[|\]$/g, '');
    const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
    if (isIP(host) && !this.allowed(host, port)) throw this.refusal(host, host);
  }

  /**
   * A `lookup` for node:http(s) that refuses private answers. Checking the address the socket
   * actually connects to (not a separate pre-flight resolution) closes the DNS-rebinding gap.
   */
  lookupFor(port: number) {
    return (hostname: string, options: LookupOptions, callback: (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void) => {
      dnsLookup(hostname, { ...options, all: true }, (error, addresses) => {
        if (error) return callback(error, '');
        const list = addresses as LookupAddress[];
        const bad = list.find((a) => !this.allowed(a.address, port));
        if (bad) return callback(Object.assign(this.refusal(hostname, bad.address), { code: 'EPRIVATE' }) as never, '');
        if (options.all) return callback(null, list);
        return callback(null, list[0].address, list[0].family);
      });
    };
  }
}
