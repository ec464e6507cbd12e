import { clientIpKey, MAX_UNPARSED_IP_CHARS } from "../../../src/http/client-ip";

describe("clientIpKey: one per-IP budget per network address, however it is written", () => {
  it.each([
    ["198.51.100.7", "198.51.100.7"],
    ["::ffff:198.51.100.7", "198.51.100.7"],
    ["::FFFF:c633:6407", "198.51.100.7"],
    ["0:0:0:0:0:ffff:198.51.100.7", "198.51.100.7"],
    ["2001:db8::1", "2001:db8:0:0::/64"],
    ["2001:DB8:0:0:0:0:0:1", "2001:db8:0:0::/64"],
    ["2001:db8::ffff:1", "2001:db8:0:0::/64"],
    ["2001:db8:0:7:1:2:3:4", "2001:db8:0:7::/64"],
    ["2001:0db8:0000:0007::", "2001:db8:0:7::/64"],
    ["fe80::1%eth0", "fe80:0:0:0::/64"],
    ["::1", "0:0:0:0::/64"],
    ["not-an-ip", "not-an-ip"],
    // With the port (and brackets) a proxy may write (an attack review: each port had been a budget of its own).
    ["198.51.100.7:50001", "198.51.100.7"],
    ["[2001:db8::1]:443", "2001:db8:0:0::/64"],
    ["[2001:db8::1]", "2001:db8:0:0::/64"],
    ["[::ffff:198.51.100.7]:1", "198.51.100.7"],
    ["[fe80::1%eth0]:8080", "fe80:0:0:0::/64"],
    // Not an address with a port: kept as given.
    ["198.51.100.7:x", "198.51.100.7:x"],
    ["[not-an-ip]:80", "[not-an-ip]:80"],
    ["999.1.1.1:80", "999.1.1.1:80"],
  ])("%s -> %s", (ip, key) => {
    expect(clientIpKey(ip)).toBe(key);
  });
});

describe("clientIpKey of what is not an IP address (a proxy passing X-Forwarded-For on as the client wrote it)", () => {
  it("is cut: a 16 kB header value is not kept whole in the process's tables; two may share a budget", () => {
    const long = `${"a".repeat(16_000)}`;
    expect(clientIpKey(long)).toBe("a".repeat(MAX_UNPARSED_IP_CHARS));
    expect(clientIpKey(`${long}1`)).toBe(clientIpKey(`${long}2`));
    expect(clientIpKey("unknown")).toBe("unknown");
    // Never cut into a valid address's key: a cut value is longer than any IP spelling.
    expect(MAX_UNPARSED_IP_CHARS).toBeGreaterThan("ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255".length);
  });
});
