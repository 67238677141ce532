"use strict";
// Test-harness workaround, loaded with `node -r` by check-submission.sh only when the tree has
// two copies of @grpc/grpc-js (see README.md): makes @protobuf-ts/grpc-transport load the same
// @grpc/grpc-js copy as apache-beam, so the SDK's `ChannelCredentials.createInsecure()` passes
// grpc-transport's instanceof check. It changes module resolution only; no file is modified.
const Module = require("module");
const path = require("path");
const beamMain = require.resolve("apache-beam", { paths: [process.cwd()] });
const beamDir = beamMain.slice(0, beamMain.lastIndexOf(`${path.sep}apache-beam${path.sep}`) + `${path.sep}apache-beam`.length);
const beamGrpc = require.resolve("@grpc/grpc-js", { paths: [beamDir] });
const original = Module._resolveFilename;
Module._resolveFilename = function (request, parent, ...rest) {
  if (request === "@grpc/grpc-js" && parent && parent.filename && parent.filename.includes(`${path.sep}@protobuf-ts${path.sep}grpc-transport${path.sep}`)) {
    return beamGrpc;
  }
  return original.call(this, request, parent, ...rest);
};
