#!/usr/bin/env node
"use strict";
require("../dist/pipeline/cli.js")
  .main(process.argv.slice(2))
  .then((code) => process.exit(code))
  .catch((error) => {
    console.error(`api2lake: ${error && error.message ? error.message : error}`);
    process.exit(1);
  });
