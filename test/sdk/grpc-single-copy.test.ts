import { test } from "node:test";
import * as assert from "node:assert/strict";
import * as path from "path";

// The Beam SDK builds gRPC credentials with its own @grpc/grpc-js and hands them to
// @protobuf-ts/grpc-transport; two copies make every non-direct runner fail with "Channel
// credentials must be a ChannelCredentials object" (package.json pins one with `overrides`).
test("apache-beam and its gRPC transport load the same @grpc/grpc-js", () => {
  const beamDir = path.dirname(require.resolve("apache-beam"));
  const fromBeam = require.resolve("@grpc/grpc-js", { paths: [beamDir] });
  const transportDir = path.dirname(require.resolve("@protobuf-ts/grpc-transport", { paths: [beamDir] }));
  const fromTransport = require.resolve("@grpc/grpc-js", { paths: [transportDir] });
  assert.equal(fromBeam, fromTransport);
});
