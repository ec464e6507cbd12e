/**
 * What a suite's beforeAll starts (servers, child processes, a browser), closed by its afterAll even when the
 * beforeAll timed out. Jest does not stop a hook that times out: it runs afterAll while the hook goes on, so a browser
 * whose launch finishes afterwards was never closed and kept Jest from exiting (CI then waited out its 90 minutes).
 * With `keep`, whatever comes up after `closeAll` is closed at once, and the rest of the set-up stops there.
 */
export class Started {
  #closing = false;
  readonly #closers: (() => Promise<unknown>)[] = [];
  readonly #aborted = new AbortController();

  /** Aborted by `closeAll`: give it to the set-up's child processes (execFile's `signal`) so a build stops too. */
  get signal(): AbortSignal {
    return this.#aborted.signal;
  }

  /** Awaits `resource` and remembers how to close it; once `closeAll` has run, closes it at once and throws. */
  async keep<T>(resource: Promise<T> | T, close: (value: T) => unknown): Promise<T> {
    const value = await resource;
    if (this.#closing) {
      await close(value);
      throw new Error("the suite was torn down before its set-up finished (its beforeAll timed out)");
    }
    this.#closers.push(async () => close(value));
    return value;
  }

  /** Closes everything kept, the latest first, each even when an earlier one failed; throws the first failure. */
  async closeAll(): Promise<void> {
    this.#closing = true;
    this.#aborted.abort();
    const failures: unknown[] = [];
    for (const close of this.#closers.splice(0).reverse()) {
      await close().catch((error: unknown) => failures.push(error));
    }
    if (failures.length > 0) throw failures[0];
  }
}
