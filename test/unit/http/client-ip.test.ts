import { clientIpKey } from "../../../src/http/client-ip";

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
  ])("%s -> %s", (ip, key) => {
    expect(clientIpKey(ip)).toBe(key);
  });
});
