import { test } from "node:test";
import * as assert from "node:assert/strict";
import { impulse, parDo, singletonSideInput, withName, Root, type PCollection } from "apache-beam";
import { Pipeline } from "apache-beam/internal/pipeline";
import { singletonSide } from "../../pipeline/side-input";
import { runAndCollect } from "../support/run-and-collect";

/** Payload bytes of each step of a graph with `n` chained DoFns that each read a side input. */
function payloadSizes(side: typeof singletonSide, n: number): number[] {
  const root = new Root(new Pipeline());
  const plan = root.apply(withName("ImpulsePlan", impulse())).map(function plan() { return { columns: ["a"] }; });
  let main: PCollection<unknown> = root.apply(withName("ImpulseMain", impulse()));
  for (let i = 0; i < n; i++) {
    main = main.apply(withName(`Step${i}`, parDo({
      process: function* (x: unknown, ctx: { plan: { lookup: () => unknown } }) {
        yield [x, ctx.plan.lookup()];
      },
    }, { plan: side(plan, { columns: [] }) })));
  }
  const transforms = root.pipeline.getProto().components!.transforms;
  const steps = Object.values(transforms).filter((t) => /^Step\d+$/.test(t.uniqueName)).sort((a, b) => (a.uniqueName < b.uniqueName ? -1 : 1));
  assert.equal(steps.length, n);
  return steps.map((t) => t.spec?.payload?.length ?? 0);
}

test("a DoFn reading a singletonSide input does not carry the pipeline in its payload", () => {
  const ours = payloadSizes(singletonSide, 4);
  assert.ok(Math.max(...ours) < 20_000, `payloads ${ours.join(", ")}`);
  assert.ok(ours[3] - ours[0] < 1_000, `payloads grow with the graph: ${ours.join(", ")}`);
  // The SDK's own singletonSideInput embeds the graph built so far (why singletonSide exists).
  const sdk = payloadSizes((p, d) => singletonSideInput(p, d), 4);
  assert.ok(sdk[3] > 2 * sdk[0], `SDK payloads ${sdk.join(", ")}`);
});

test("singletonSide gives every element the single value, or the default when the collection is empty", async () => {
  const rows = await runAndCollect((root) => {
    const one = root.apply(withName("ImpulseOne", impulse())).map(function one() { return "planned"; });
    const none = root.apply(withName("ImpulseNone", impulse())).flatMap(function* none() { /* no value */ });
    return root
      .apply(withName("ImpulseMain", impulse()))
      .flatMap(function* three() { yield 1; yield 2; yield 3; })
      .apply(withName("ReadSides", parDo({
        process: function* (n: number, ctx: { one: { lookup: () => string }; none: { lookup: () => string } }) {
          yield `${n}:${ctx.one.lookup()}:${ctx.none.lookup()}`;
        },
      }, { one: singletonSide(one, "default"), none: singletonSide(none as PCollection<string>, "default") })));
  });
  assert.deepEqual(rows.sort(), ["1:planned:default", "2:planned:default", "3:planned:default"]);
});
