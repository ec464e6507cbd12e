// The bench's system order (bench/lib/sequential.js balancedOrder): a rotation kept every system right after the same
// neighbour, and a trial measured identical code at up to 1.16× itself that way
// (docs/performance-runs.md, "Round a6d9cff").
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { balancedOrder } = require("../../../bench/lib/sequential") as {
  balancedOrder: (n: number, i: number) => number[];
};

describe("bench balancedOrder (a Williams design)", () => {
  it.each([1, 2, 3, 4, 5, 6, 7, 8])(
    "over one cycle of rows, %i systems: every ordered pair adjacent and every position taken equally often",
    (n) => {
      const rows = n % 2 === 0 ? n : 2 * n;
      const follows = new Map<string, number>();
      const positions = new Map<string, number>();
      for (let i = 0; i < rows; i++) {
        const order = balancedOrder(n, i);
        expect([...order].sort((a, b) => a - b)).toEqual([...Array(n).keys()]);
        order.forEach((s, p) => {
          positions.set(`${s}@${p}`, (positions.get(`${s}@${p}`) ?? 0) + 1);
          if (p > 0) follows.set(`${order[p - 1]}>${s}`, (follows.get(`${order[p - 1]}>${s}`) ?? 0) + 1);
        });
      }
      expect(follows.size).toBe(n * (n - 1));
      expect(new Set(follows.values()).size).toBeLessThanOrEqual(1);
      expect(positions.size).toBe(n * n);
      expect(new Set(positions.values()).size).toBe(1);
    },
  );

  it("is not a rotation: a system's neighbour changes from row to row", () => {
    const before = (row: number[], s: number) => row[row.indexOf(s) - 1];
    const neighbours = new Set([0, 1, 2, 3].map((i) => before(balancedOrder(7, i), 3)));
    expect(neighbours.size).toBeGreaterThan(1);
  });
});
