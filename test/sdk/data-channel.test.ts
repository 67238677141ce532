import { test } from "node:test";
import * as assert from "node:assert/strict";
import "apache-beam"; // load the SDK in its own order first
import * as grpc from "@grpc/grpc-js";
import { beamFnDataDefinition } from "apache-beam/proto/beam_fn_api.grpc-server";
import { Elements } from "apache-beam/proto/beam_fn_api";
import { MultiplexingDataChannel } from "apache-beam/worker/data";

const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

test("a remote worker's data channel handles data messages in arrival order, so a bundle cannot close early", async () => {
  const server = new grpc.Server();
  server.addService(beamFnDataDefinition, {
    data: (call: grpc.ServerDuplexStream<Elements, Elements>) => {
      // Two messages for one bundle back to back; the last one closes the bundle's input.
      call.write(Elements.create({ data: [{ instructionId: "b1", transformId: "t1", data: new Uint8Array([1]), isLast: false }], timers: [] }));
      call.write(Elements.create({ data: [{ instructionId: "b1", transformId: "t1", data: new Uint8Array([2]), isLast: true }], timers: [] }));
    },
  } as never);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );

  const log: string[] = [];
  const closed = new Promise<void>((resolve) => {
    const channel = new MultiplexingDataChannel(`127.0.0.1:${port}`, "worker-1");
    void channel.registerConsumer("b1", "t1", {
      sendData: async (data: Uint8Array) => {
        log.push(`start ${data[0]}`);
        await delay(data[0] === 1 ? 80 : 0); // the first message is slow to process
        log.push(`end ${data[0]}`);
      },
      sendTimers: async () => undefined,
      close: () => {
        log.push("close");
        channel.close();
        resolve();
      },
      onError: (error: Error) => log.push(`error ${error.message}`),
    } as never);
  });
  await closed;
  server.forceShutdown();
  assert.deepEqual(log, ["start 1", "end 1", "start 2", "end 2", "close"]);
});
