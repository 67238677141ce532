import { singletonSideInput, type PCollection } from "apache-beam";
import type { SideInputParam } from "apache-beam/transforms/pardo";

/**
 * `singletonSideInput` whose PCollection the closure serializer cannot reach. The SDK (2.49)
 * serializes a DoFn's context with the side input's prototype chain, which still holds `pcoll`
 * (its `copySideInputWithId` deletes the property from an `Object.create` copy, a no-op): every
 * DoFn with a side input then carried the whole pipeline, each one embedding the payloads of the
 * earlier ones, until a graph with two entities failed with "Too many properties to enumerate".
 * The serializer skips keys starting with `__`, so `pcoll` becomes a getter over `__pcoll`.
 */
export function singletonSide<T>(pcoll: PCollection<T>, defaultValue: T): SideInputParam<T, Iterable<T>, T> {
  const param = singletonSideInput(pcoll, defaultValue);
  delete (param as { pcoll?: unknown }).pcoll;
  Object.defineProperty(param, "__pcoll", { value: pcoll, writable: true, configurable: true, enumerable: false });
  Object.defineProperty(param, "pcoll", {
    get: function (this: { __pcoll: PCollection<T> }) {
      return this.__pcoll;
    },
    configurable: true,
    enumerable: true,
  });
  return param;
}
