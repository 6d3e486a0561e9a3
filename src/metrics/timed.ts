/**
 * Wraps an object so that the calls of `operations` are timed: a method returning a promise is timed until it
 * settles, one returning an async iterable until the iteration ends. The methods run on the object itself (not on
 * the wrapper), so private fields keep working; `in` and `instanceof` see the object unchanged, so capability
 * checks (`isPasswordSource`) still hold.
 */
export function timedCalls<T extends object>(
  target: T,
  operations: readonly string[],
  observe: (operation: string, ok: boolean, seconds: number) => void,
): T {
  const timed = new Set(operations);
  return new Proxy(target, {
    get(obj, prop, _receiver) {
      const value = Reflect.get(obj, prop, obj) as unknown;
      if (typeof prop !== "string" || !timed.has(prop) || typeof value !== "function") return value;
      return (...args: unknown[]) => {
        const start = performance.now();
        const done = (ok: boolean) => observe(prop, ok, (performance.now() - start) / 1000);
        let result: unknown;
        try {
          result = (value as (...a: unknown[]) => unknown).apply(obj, args);
        } catch (err) {
          done(false);
          throw err;
        }
        if (result instanceof Promise)
          return result.then(
            (v) => {
              done(true);
              return v;
            },
            (err: unknown) => {
              done(false);
              throw err;
            },
          );
        if (result !== null && typeof result === "object" && Symbol.asyncIterator in result)
          return timedIteration(result as AsyncIterable<unknown>, done);
        return result;
      };
    },
  });
}

async function* timedIteration<V>(iterable: AsyncIterable<V>, done: (ok: boolean) => void): AsyncGenerator<V> {
  let ok = false;
  try {
    yield* iterable;
    ok = true;
  } finally {
    done(ok);
  }
}
