import { DATA_GLOBALS, globalsAsData } from "../../../src/util/data-globals";

/** globalsAsData on objects of the test's own (jest's globals are its environment's, left alone). */
describe("globalsAsData", () => {
  const accessor = (target: object, name: string, initial: unknown) => {
    let held = initial;
    let reads = 0;
    Object.defineProperty(target, name, {
      get: () => {
        reads++;
        return held;
      },
      set: (value: unknown) => {
        held = value;
      },
      configurable: true,
      enumerable: false,
    });
    return { reads: () => reads };
  };

  it("makes each configurable accessor a writable, configurable data property holding what its getter gave", () => {
    const target: Record<string, unknown> = {};
    const value = { a: 1 };
    const counted = accessor(target, "Buffer", value);
    expect(globalsAsData(target, ["Buffer"])).toEqual(["Buffer"]);
    const d = Object.getOwnPropertyDescriptor(target, "Buffer");
    expect(d).toEqual({ value, writable: true, configurable: true, enumerable: false });
    // Read once, while redefining; later reads are loads, not calls.
    void target.Buffer;
    void target.Buffer;
    expect(counted.reads()).toBe(1);
    // Still assignable, as the setter allowed.
    target.Buffer = 2;
    expect(target.Buffer).toBe(2);
  });

  it("keeps an enumerable accessor enumerable", () => {
    const target = {};
    Object.defineProperty(target, "process", { get: () => 7, configurable: true, enumerable: true });
    globalsAsData(target, ["process"]);
    expect(Object.getOwnPropertyDescriptor(target, "process")).toEqual({
      value: 7,
      writable: true,
      configurable: true,
      enumerable: true,
    });
  });

  it("leaves data properties, non-configurable accessors, setter-only accessors and missing names alone", () => {
    const target: Record<string, unknown> = { process: 1 };
    const fixed = () => 2;
    Object.defineProperty(target, "Buffer", { get: fixed, configurable: false });
    Object.defineProperty(target, "performance", { set: () => undefined, configurable: true });
    expect(globalsAsData(target, ["process", "Buffer", "performance", "absent"])).toEqual([]);
    expect(Object.getOwnPropertyDescriptor(target, "process")?.value).toBe(1);
    expect(Object.getOwnPropertyDescriptor(target, "Buffer")?.get).toBe(fixed);
    expect(Object.getOwnPropertyDescriptor(target, "performance")?.set).toBeInstanceOf(Function);
    expect("absent" in target).toBe(false);
  });

  it("names the globals the entry point redefines", () => {
    expect([...DATA_GLOBALS]).toEqual(["process", "Buffer", "performance"]);
  });
});
